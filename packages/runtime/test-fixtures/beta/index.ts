import { $, on } from '@bac/sdk'

on($.Beta.happened, function betaHandler() {})
export const BetaService = $.service({ name: 'BetaService', operations: { ping: () => 'pong' } })
