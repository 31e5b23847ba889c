"""Open tasks made before tasks carried summaries (migration 0018) get theirs at start-up,
from their case's newest data, without changing their versions."""

from __future__ import annotations

from sqlalchemy import select, update

from tests.helpers import deploy_processes, only_task
from tests.processes.test_status_change import PAST_TERM, apply
from xueji.db.session import session_scope
from xueji.instances.summaries import describe_open_tasks
from xueji.models import UserTask


def test_open_tasks_without_a_summary_are_described_once(client, db):

    deploy_processes(client, "status_change")
    apply(client, kind="休学")
    task = only_task(client, "stu1001")
    with session_scope(db.db.writer) as session:
        session.execute(
            update(UserTask)
            .where(UserTask.id == task["id"])
            .values(summary=None, kind=None, subject_name=None)
            .execution_options(synchronize_session=False)
        )
    with session_scope(db.db.writer) as session:
        assert describe_open_tasks(session, db.summaries) == 1
    with session_scope(db.db.writer) as session:
        assert describe_open_tasks(session, db.summaries) == 0
        row = session.scalar(select(UserTask).where(UserTask.id == task["id"]))
        assert (row.summary, row.kind, row.subject_name, row.version) == (
            f"休学 · {PAST_TERM} · 张伟 (S01 郑州函授站)",
            "休学",
            "张伟",
            task["version"],
        )
