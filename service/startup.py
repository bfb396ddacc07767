"""What a single-instance container may do before serving: AUTO_MIGRATE, AUTO_SEED."""

from __future__ import annotations

from collections.abc import Callable

from service.config import Settings


def prepare_database(settings: Settings, *, log: Callable[[str], None]) -> None:
    if not (settings.auto_migrate or settings.auto_seed):
        return
    from service import migrate
    from service.db import make_engine
    from service.paths import project_directory
    from service.services import corpus

    engine = make_engine(settings.database_url)
    try:
        if settings.auto_migrate:
            migrate.upgrade(engine)
            log(f"AUTO_MIGRATE: database at revision {migrate.head_revision()}")
        if settings.auto_seed:
            from sqlalchemy.orm import Session

            with Session(engine) as session:
                reports = corpus.import_folder(
                    session, project_directory("seeds", corpus.MANIFEST), actor="seed"
                )
                session.commit()
            log(f"AUTO_SEED: {len(reports)} seed documents loaded or already present")
    finally:
        engine.dispose()
