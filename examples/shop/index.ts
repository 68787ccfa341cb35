/**
 * The shop business. `bac dev examples/shop` runs it; every module imported here adds its
 * handlers, services and schedules to the business.
 */
import './inventory.ts'
import './payments.ts'
import './orders.ts'
import './notifications.ts'
import './reports.ts'
