"""The embedded reference instance: an Open edX-style LMS and discovery service, with named faults.

Importing this package needs nothing beyond the suite's own dependencies; Django and friends (the
``reference`` extra) are imported only by the modules that run the servers.
"""

from __future__ import annotations
