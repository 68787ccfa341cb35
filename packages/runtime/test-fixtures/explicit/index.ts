import { $, business, on, use } from '@bac/sdk'

export const Shared = $.service({ name: 'SharedService', operations: { ping: () => 'pong' } })

export default business('explicit-shop', () => {
  on($.Order.created, function recordOrder() {})
  use(Shared)
})
