"""The SLA engine of grievances (DESIGN §5): calendar, clocks, sweep, escalation, policies.

- calendar: working days (statutory holidays, 调休 make-up days, staff overrides).
- clocks: start / stop / pause / resume / cancel / extend, called by the workflow services.
- sweep: the periodic pass that records warnings, breaches and escalations once each.
- escalation: who hears about it at each rung of the ladder, and when the next rung is.
- policies: the seeded 1715 and repair-tier policies.
"""
