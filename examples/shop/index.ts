/**
 * The shop business. `bac dev examples/shop` runs it; every module imported here adds its
 * handlers, services and schedules to the business.
 *
 * An order goes `Order.created` → checked (`Order.rejected` if it breaks a rule) → the
 * `place-order` saga (reserve stock, charge, ship, confirm by email; undone in reverse when a
 * step fails) → `Order.confirmed` or `Order.failed` → counted by analytics, and reported daily.
 */
import './events.ts'
import './inventory.ts'
import './payments.ts'
import './shipping.ts'
import './orders.ts'
import './notifications.ts'
import './analytics.ts'
import './reports.ts'
