"""records and call activities

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 15:42:54.641693
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xueji.db.base  # noqa: F401  (UTCDateTime in column types)

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("credits", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("code", name=op.f("uq_courses_code")),
    )
    op.create_table(
        "majors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("years", sa.String(length=5), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_majors")),
        sa.UniqueConstraint("code", "level", name=op.f("uq_majors_code_level")),
    )
    op.create_table(
        "sequences",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sequences")),
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("generated", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_uploads_instance_id_process_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_uploads_station_id_stations")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_uploads_student_id_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("major_id", sa.Integer(), nullable=False),
        sa.Column("intake_year", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["major_id"], ["majors.id"], name=op.f("fk_classes_major_id_majors")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_classes_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classes")),
        sa.UniqueConstraint("code", name=op.f("uq_classes_code")),
    )
    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_classes_station_id"), ["station_id"], unique=False)

    op.create_table(
        "grades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=10), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("official", sa.Boolean(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_grades_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_grades_instance_id_process_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_grades_student_id_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grades")),
        sa.UniqueConstraint(
            "student_id",
            "course_id",
            "term",
            "attempt",
            name=op.f("uq_grades_student_id_course_id_term_attempt"),
        ),
    )
    with op.batch_alter_table("grades", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grades_student_id"), ["student_id"], unique=False)

    op.create_table(
        "student_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("changed_by", sa.String(length=80), nullable=False),
        sa.Column("changed_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_student_status_changes_instance_id_process_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_student_status_changes_student_id_students"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_student_status_changes")),
    )
    with op.batch_alter_table("student_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_student_status_changes_student_id"), ["student_id"], unique=False
        )

    op.create_table(
        "thesis_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("advisor", sa.String(length=80), nullable=True),
        sa.Column("eligible", sa.Boolean(), nullable=True),
        sa.Column("grade", sa.String(length=10), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("excellent", sa.Boolean(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("recorded_at", xueji.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instances.id"],
            name=op.f("fk_thesis_results_instance_id_process_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["students.id"], name=op.f("fk_thesis_results_student_id_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thesis_results")),
    )
    with op.batch_alter_table("thesis_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_thesis_results_student_id"), ["student_id"], unique=False
        )

    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_task_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("call_index", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_process_instances_parent_task_id"), ["parent_task_id"], unique=False
        )

    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exam_number", sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("political_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("ethnicity", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("major_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("study_mode", sa.String(length=10), nullable=False, server_default="函授")
        )
        batch_op.add_column(sa.Column("enrolled_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("class_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("expected_graduation", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("remarks", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("work_unit", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("photo_upload_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("photo_status", sa.String(length=20), nullable=False, server_default="未采集")
        )
        batch_op.add_column(sa.Column("graduated_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("certificate_number", sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column("conclusion", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("updated_at", xueji.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_students_scope", ["station_id", "status"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_students_certificate_number"), ["certificate_number"]
        )
        batch_op.create_unique_constraint(batch_op.f("uq_students_exam_number"), ["exam_number"])
        batch_op.create_foreign_key(
            batch_op.f("fk_students_class_id_classes"), "classes", ["class_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_students_photo_upload_id_uploads"),
            "uploads",
            ["photo_upload_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_students_major_id_majors"), "majors", ["major_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_students_major_id_majors"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_students_photo_upload_id_uploads"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_students_class_id_classes"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_students_exam_number"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_students_certificate_number"), type_="unique")
        batch_op.drop_index("ix_students_scope")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("conclusion")
        batch_op.drop_column("certificate_number")
        batch_op.drop_column("graduated_on")
        batch_op.drop_column("photo_status")
        batch_op.drop_column("photo_upload_id")
        batch_op.drop_column("work_unit")
        batch_op.drop_column("phone")
        batch_op.drop_column("address")
        batch_op.drop_column("remarks")
        batch_op.drop_column("expected_graduation")
        batch_op.drop_column("class_id")
        batch_op.drop_column("enrolled_on")
        batch_op.drop_column("study_mode")
        batch_op.drop_column("major_id")
        batch_op.drop_column("ethnicity")
        batch_op.drop_column("political_status")
        batch_op.drop_column("birth_date")
        batch_op.drop_column("exam_number")

    with op.batch_alter_table("process_instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_instances_parent_task_id"))
        batch_op.drop_column("call_index")
        batch_op.drop_column("parent_task_id")

    with op.batch_alter_table("thesis_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thesis_results_student_id"))

    op.drop_table("thesis_results")
    with op.batch_alter_table("student_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_student_status_changes_student_id"))

    op.drop_table("student_status_changes")
    with op.batch_alter_table("grades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grades_student_id"))

    op.drop_table("grades")
    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classes_station_id"))

    op.drop_table("classes")
    op.drop_table("uploads")
    op.drop_table("sequences")
    op.drop_table("majors")
    op.drop_table("courses")
