"""Names of the simulator's insider scenarios, apart from their numpy-heavy code.

Kept light so that ``piguard simulate --help`` can list them without importing numpy.
"""

from __future__ import annotations

# The order is part of the output: a scenario's code is its position here plus one.
SCENARIOS = (
    "minhang_broker",
    "mdt_harvest",
    "credential_sharing",
    "bulk_export",
    "neighbour_snoop",
    "family_snoop",
    "slow_and_low",
    "breakglass_abuse",
    "canary_hit",
)
