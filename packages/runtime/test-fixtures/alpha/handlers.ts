import { $, on } from '@bac/sdk'

await new Promise((resolve) => setTimeout(resolve, 20))
on($.Alpha.happened, function alphaHandler() {})
