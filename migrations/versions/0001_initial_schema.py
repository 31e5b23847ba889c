"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 15:20:09.576829
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xueji.db.base  # noqa: F401  (UTCDateTime in column types)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployed_by", sa.String(length=80), nullable=False),
        sa.Column("deployed_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
    )
    op.create_table(
        "roles",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_roles")),
        sa.UniqueConstraint("name_zh", name=op.f("uq_roles_name_zh")),
    )
    # Reference data, frozen here as of this revision (src/xueji/auth/roles.py is the live copy).
    roles_table = sa.table(
        "roles", sa.column("key"), sa.column("name_zh"), sa.column("description")
    )
    op.bulk_insert(
        roles_table,
        [
            {"key": key, "name_zh": name_zh, "description": ""}
            for key, name_zh in [
                ("student", "学生"),
                ("station", "函授站"),
                ("registrar", "学院学籍管理"),
                ("academic", "学院教学管理"),
                ("grades", "成绩管理人员"),
                ("leader", "学籍主管领导"),
                ("student_affairs", "学工办"),
                ("advisor", "指导教师"),
                ("province_admissions", "省级招生部门"),
                ("province_edu", "省教育厅"),
                ("photo_agency", "新华图片社"),
                ("chsi", "教育部网络中心"),
                ("admin", "系统管理员"),
            ]
        ],
    )
    op.create_table(
        "stations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations")),
        sa.UniqueConstraint("code", name=op.f("uq_stations_code")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("role_key", sa.String(length=40), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", xueji.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", xueji.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["role_key"], ["roles.key"], name=op.f("fk_api_tokens_role_key_roles")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_api_tokens_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("deployed_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"], ["deployments.id"], name=op.f("fk_forms_deployment_id_deployments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
        sa.UniqueConstraint("name", "content_hash", name=op.f("uq_forms_name_content_hash")),
    )
    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forms_name"), ["name"], unique=False)

    op.create_table(
        "process_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("deployed_by", sa.String(length=80), nullable=False),
        sa.Column("deployed_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lanes", sa.JSON(), nullable=False),
        sa.Column("start_role", sa.String(length=40), nullable=True),
        sa.Column("start_form", sa.String(length=200), nullable=True),
        sa.Column("start_ui_form", sa.String(length=200), nullable=True),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("dependencies", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_process_definitions_deployment_id_deployments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_definitions")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_process_definitions_key_version")),
    )
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_process_definitions_key"), ["key"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_users_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_station_id"), ["station_id"], unique=False)

    op.create_table(
        "students",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("gender", sa.String(length=2), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("major", sa.String(length=80), nullable=False),
        sa.Column("intake_year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("student_number", sa.String(length=15), nullable=True),
        sa.Column("created_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_students_station_id_stations")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_students_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_students")),
        sa.UniqueConstraint("id_number", name=op.f("uq_students_id_number")),
        sa.UniqueConstraint("student_number", name=op.f("uq_students_student_number")),
        sa.UniqueConstraint("user_id", name=op.f("uq_students_user_id")),
    )
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_students_station_id"), ["station_id"], unique=False)

    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role_key", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_key"],
            ["roles.key"],
            name=op.f("fk_user_roles_role_key_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role_key", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "process_instances",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("business_key", sa.String(length=120), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("engine_state", sa.Text(), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=80), nullable=False),
        sa.Column("started_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", xueji.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["process_definitions.id"],
            name=op.f("fk_process_instances_definition_id_process_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["process_instances.id"],
            name=op.f("fk_process_instances_parent_id_process_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_process_instances_station_id_stations")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_process_instances_student_id_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_instances")),
    )
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_process_instances_business_key"), ["business_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_process_instances_definition_id"), ["definition_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_process_instances_parent_id"), ["parent_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_process_instances_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_process_instances_station_id"), ["station_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_process_instances_student_id"), ["student_id"], unique=False
        )

    op.create_table(
        "history_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("element_id", sa.String(length=120), nullable=True),
        sa.Column("element_name", sa.String(length=300), nullable=True),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_history_events_instance_id_process_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_events")),
    )
    with op.batch_alter_table("history_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_history_events_instance_id"), ["instance_id"], unique=False
        )

    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("definition_id", sa.Integer(), nullable=True),
        sa.Column("element_id", sa.String(length=120), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", xueji.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["process_definitions.id"],
            name=op.f("fk_incidents_definition_id_process_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_incidents_instance_id_process_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_instance_id"), ["instance_id"], unique=False)

    op.create_table(
        "user_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("element_id", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column("form", sa.String(length=200), nullable=True),
        sa.Column("ui_form", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("assignee", sa.String(length=80), nullable=True),
        sa.Column("due_at", xueji.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", xueji.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.String(length=80), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_user_tasks_instance_id_process_instances"),
        ),
        sa.ForeignKeyConstraint(["role"], ["roles.key"], name=op.f("fk_user_tasks_role_roles")),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_user_tasks_station_id_stations")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_user_tasks_student_id_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_tasks")),
    )
    with op.batch_alter_table("user_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_tasks_assignee"), ["assignee"], unique=False)
        batch_op.create_index("ix_user_tasks_inbox", ["state", "role", "station_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_user_tasks_instance_id"), ["instance_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_user_tasks_student_id"), ["student_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_tasks_student_id"))
        batch_op.drop_index(batch_op.f("ix_user_tasks_instance_id"))
        batch_op.drop_index("ix_user_tasks_inbox")
        batch_op.drop_index(batch_op.f("ix_user_tasks_assignee"))

    op.drop_table("user_tasks")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_instance_id"))

    op.drop_table("incidents")
    with op.batch_alter_table("history_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_history_events_instance_id"))

    op.drop_table("history_events")
    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_instances_student_id"))
        batch_op.drop_index(batch_op.f("ix_process_instances_station_id"))
        batch_op.drop_index(batch_op.f("ix_process_instances_state"))
        batch_op.drop_index(batch_op.f("ix_process_instances_parent_id"))
        batch_op.drop_index(batch_op.f("ix_process_instances_definition_id"))
        batch_op.drop_index(batch_op.f("ix_process_instances_business_key"))

    op.drop_table("process_instances")
    op.drop_table("user_roles")
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_students_station_id"))

    op.drop_table("students")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_station_id"))

    op.drop_table("users")
    with op.batch_alter_table("process_definitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_definitions_key"))

    op.drop_table("process_definitions")
    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forms_name"))

    op.drop_table("forms")
    op.drop_table("api_tokens")
    op.drop_table("stations")
    op.drop_table("roles")
    op.drop_table("deployments")
