"""A realistic demo: several manufacturers and battery models (NMC, NCA, LFP, sodium-ion, lead-acid; EV, LMT,
industrial and stationary), a few hundred passports in every status, second-life chains, and recyclers with custody
transfers, dismantled and recycled batteries and recovered masses. Idempotent: loading it again changes nothing.

Built from the documented examples (docs/examples), varied per model and item; every document goes through the
same validation, signing and storage as any other.

Split by role: ``loader`` loads it (organisations, API keys, models, passports) or reports what is there; ``data``
holds the organisations, the models and the documents made for them; ``lifecycles`` ends, recycles and repurposes
batteries; ``access`` records who else may read what."""

from __future__ import annotations

from passport.demo.data import ORGANISATIONS
from passport.demo.loader import DemoResult, iter_roles, load

__all__ = ["ORGANISATIONS", "DemoResult", "iter_roles", "load"]
