// A module resolve hook for load(): a business that imports @bac/sdk or zod without having them
// installed (a fresh `bac init`, a deployed bundle's directory) gets the runtime's own copies.
// Whatever the business does have installed wins.
const FALLBACK = new Set(['@bac/sdk', 'zod'])
let base

export function initialize(data) {
  base = data.base
}

const packageOf = (specifier) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context)
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !FALLBACK.has(packageOf(specifier))) throw error
    return next(specifier, { ...context, parentURL: base })
  }
}
