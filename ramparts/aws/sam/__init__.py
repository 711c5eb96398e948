"""AWS SAM import: ``ramparts import template.yaml`` writes a ``ramparts.yaml``.

See docs/aws/sam.md.  ``import_template`` does the work and returns the
manifest text and a report; ``ramparts.cli.sam`` writes the file.
"""

from __future__ import annotations

from ramparts.aws.sam.convert import DEFAULT_REGION, Imported, app_name, import_template
from ramparts.aws.sam.errors import TemplateError, Unresolvable

__all__ = [
    "DEFAULT_REGION",
    "Imported",
    "TemplateError",
    "Unresolvable",
    "app_name",
    "import_template",
]
