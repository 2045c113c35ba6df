"""The suite tested against the reference instance: the fault matrix runner and the mutation score.

This package sits above both the suite (`conformance._lib`, `conformance.checks`) and the reference
instance (`conformance.reference`): it starts reference instances with faults and runs the suite's
command line against them. Neither of those imports it; `conformance.cli` registers its command.
"""
