import { $ } from '@bac/sdk'

$.saga({ name: 'broken', steps: [{ name: 'charge' } as never] })
