/**
 * Control of the runtime's result cache, as `ctx.cache` and on services
 * (`ProductService.cache.invalidate('prod-123')`).
 *
 * @example
 * await ProductService.cache.invalidatePattern('products:*')
 */
export interface CacheControl {
  /** Drop one cached entry; resolves to how many entries were dropped. */
  invalidate(key: string): Promise<number>
  /** Drop every entry whose key matches a glob such as `'products:*'`. */
  invalidatePattern(pattern: string): Promise<number>
}
