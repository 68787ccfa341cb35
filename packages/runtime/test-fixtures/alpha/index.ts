import './handlers.ts'
import { $, every } from '@bac/sdk'

export const AlphaService = $.service({ name: 'AlphaService', operations: { ping: () => 'pong' } })
every('hour', function alphaHourly() {})
