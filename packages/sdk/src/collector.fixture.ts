/** A module with top-level declarations, imported by collector.test.ts inside collect(). */
import { $, on } from './index.ts'

on($.Fixture.happened, function fixtureHandler() {})

export const FixtureService = $.service({ name: 'FixtureService', operations: { ping: () => 'pong' } })
