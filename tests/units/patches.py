"""The stub patches that unit cases of more than one area apply (a patch used in one area stands in
that area's file)."""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_lms import on_settings

LONG_LIVED_JWT = on_settings(Defect.LONG_LIVED_JWT, jwt_lifetime=172800)
