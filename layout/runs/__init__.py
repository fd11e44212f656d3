"""The commands of ``layout``, one module each: the only floor that writes files or draws maps.

Each function here loads or takes a study, calls the analysis packages (which return frames
and dataclasses) and writes the outputs: :mod:`~layout.runs.plan` (``layout plan``),
:mod:`~layout.runs.land`, :mod:`~layout.runs.closure`, :mod:`~layout.runs.sites` and
:mod:`~layout.runs.province` (county by county).
"""
