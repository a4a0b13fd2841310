from __future__ import annotations

import pytest

from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)

INLINE_CSV = (
    "Email,First Name,Phone,Lists\n"
    'ann@example.com,Ann,555-0100,"l1,l2"\n'
    "bob@example.com,Bob,,\n"
    "broken row\n"
)


@pytest.fixture(autouse=True)
def files_root(settings, tmp_path):
    settings.FILES_ROOT = tmp_path / "files"
    return settings.FILES_ROOT


@pytest.fixture
def operation(project):
    """Inline CSV -> (transformation) -> Constant Contact Create."""
    files = ConnectionFactory(project=project, connector_key="files", name="Files")
    source = ActivityFactory(
        connection=files, activity_type="inline", name="People", config={"data": INLINE_CSV}
    )
    cc = ConnectionFactory(project=project, connector_key="constant_contact", name="CC")
    target = ActivityFactory(
        connection=cc, activity_type="create", name="Create", config={"mode": "single"}
    )
    transformation = TransformationFactory(project=project, name="People to contacts")
    return OperationFactory(
        project=project, name="Import", source=source, transformation=transformation, target=target
    )
