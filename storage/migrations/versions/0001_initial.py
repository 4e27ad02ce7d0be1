"""initial

Revision ID: 0001
Revises: none
Create Date: 2026-11-26 23:17:56.793385
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("cohort_year", sa.Integer(), nullable=False),
        sa.Column("apply_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("apply_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lock_hours", sa.Integer(), nullable=False),
        sa.Column("confirm_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirm_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offer_hours", sa.Integer(), nullable=False),
        sa.Column("notes", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch")),
        sa.UniqueConstraint("program", "name", name=op.f("uq_batch_program_name")),
    )
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_apply_end"), ["apply_end"], unique=False)
        batch_op.create_index(batch_op.f("ix_batch_cohort_year"), ["cohort_year"], unique=False)

    op.create_table(
        "city",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city")),
        sa.UniqueConstraint("code", name=op.f("uq_city_code")),
    )
    op.create_table(
        "fsm_record",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("state", sa.String(length=128), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_fsm_record")),
    )
    op.create_table(
        "inbox_update",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload_enc", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replays", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox_update")),
    )
    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.String(length=48), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "outbox_leader",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_outbox_leader")),
    )
    op.create_table(
        "phone_verification",
        sa.Column("tg_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tg_user_id", name=op.f("pk_phone_verification")),
    )
    with op.batch_alter_table("phone_verification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phone_verification_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "specialty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column("program", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_specialty")),
        sa.UniqueConstraint("program", "code", name=op.f("uq_specialty_program_code")),
    )
    op.create_table(
        "base",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("supervisor", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], name=op.f("fk_base_city_id_city")),
        sa.ForeignKeyConstraint(["parent_id"], ["base.id"], name=op.f("fk_base_parent_id_base")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_base")),
        sa.UniqueConstraint("code", name=op.f("uq_base_code")),
    )
    with op.batch_alter_table("base", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_base_city_id"), ["city_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_base_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "batch_personnel_type",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("personnel_type", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_batch_personnel_type_batch_id_batch")
        ),
        sa.PrimaryKeyConstraint("batch_id", "personnel_type", name=op.f("pk_batch_personnel_type")),
    )
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("login_name", sa.String(length=32), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("program", sa.String(length=16), nullable=True),
        sa.Column("base_id", sa.Integer(), nullable=True),
        sa.Column("city_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["base_id"], ["base.id"], name=op.f("fk_account_base_id_base")),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], name=op.f("fk_account_city_id_city")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("login_name", name=op.f("uq_account_login_name")),
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_base_id"), ["base_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_city_id"), ["city_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_role"), ["role"], unique=False)

    op.create_table(
        "application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("cohort_year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("personnel_type", sa.String(length=16), nullable=True),
        sa.Column("intended_specialty_id", sa.Integer(), nullable=True),
        sa.Column("specialty_id", sa.Integer(), nullable=True),
        sa.Column("base_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("accept_reassignment", sa.Boolean(), nullable=True),
        sa.Column("supplement", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pre_audited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_admitted_reason", sa.String(length=500), nullable=True),
        sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acceptable_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by", sa.Integer(), nullable=True),
        sa.Column("checkin", sa.String(length=16), nullable=True),
        sa.Column("checkin_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_application_account_id_account")
        ),
        sa.ForeignKeyConstraint(["base_id"], ["base.id"], name=op.f("fk_application_base_id_base")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_application_batch_id_batch")
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by"], ["account.id"], name=op.f("fk_application_confirmed_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["intended_specialty_id"],
            ["specialty.id"],
            name=op.f("fk_application_intended_specialty_id_specialty"),
        ),
        sa.ForeignKeyConstraint(["site_id"], ["base.id"], name=op.f("fk_application_site_id_base")),
        sa.ForeignKeyConstraint(
            ["specialty_id"], ["specialty.id"], name=op.f("fk_application_specialty_id_specialty")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application")),
        sa.UniqueConstraint(
            "account_id", "batch_id", name=op.f("uq_application_account_id_batch_id")
        ),
    )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_base_id_status"), ["base_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_application_batch_id_base_id_status"),
            ["batch_id", "base_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_application_status_acceptable_at"),
            ["status", "acceptable_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_application_status_deadline_at"), ["status", "deadline_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_application_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index(
            "uq_application_one_admission_per_year",
            ["account_id", "cohort_year"],
            unique=True,
            sqlite_where=sa.text("status IN ('accepted', 'confirmed')"),
            postgresql_where=sa.text("status IN ('accepted', 'confirmed')"),
        )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["account.id"], name=op.f("fk_audit_log_actor_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_log_entity_entity_id"), ["entity", "entity_id"], unique=False
        )

    op.create_table(
        "education_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("school", sa.String(length=128), nullable=False),
        sa.Column("major", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("is_first", sa.Boolean(), nullable=False),
        sa.Column("is_highest", sa.Boolean(), nullable=False),
        sa.Column("is_bachelor", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_education_record_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_education_record")),
    )
    with op.batch_alter_table("education_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_education_record_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["account.id"], name=op.f("fk_handover_actor_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover")),
    )
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_tg", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_invitation_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitation_token_hash")),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_account_id"), ["account_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("edit_of", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_outbox_account_id_account")
        ),
        sa.ForeignKeyConstraint(["edit_of"], ["outbox.id"], name=op.f("fk_outbox_edit_of_outbox")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbox_kind_subject"), ["kind", "subject"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_status_deadline_at_id"),
            ["status", "deadline_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_status_lease_until"), ["status", "lease_until"], unique=False
        )

    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("specialty_id", sa.Integer(), nullable=False),
        sa.Column("declared", sa.Integer(), nullable=True),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("declared_by", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["base_id"], ["base.id"], name=op.f("fk_plan_base_id_base")),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"], name=op.f("fk_plan_batch_id_batch")),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["account.id"], name=op.f("fk_plan_decided_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["declared_by"], ["account.id"], name=op.f("fk_plan_declared_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["specialty_id"], ["specialty.id"], name=op.f("fk_plan_specialty_id_specialty")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
        sa.UniqueConstraint(
            "batch_id",
            "base_id",
            "specialty_id",
            name=op.f("uq_plan_batch_id_base_id_specialty_id"),
        ),
    )
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_base_id"), ["base_id"], unique=False)

    op.create_table(
        "reminder_mute",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("muted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_reminder_mute_account_id_account")
        ),
        sa.PrimaryKeyConstraint("account_id", "kind", name=op.f("pk_reminder_mute")),
    )
    op.create_table(
        "telegram_user",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("language_code", sa.String(length=16), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_telegram_user_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_user")),
        sa.UniqueConstraint("account_id", name=op.f("uq_telegram_user_account_id")),
    )
    op.create_table(
        "trainee_profile",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("id_type", sa.String(length=24), nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_index", sa.String(length=64), nullable=False),
        sa.Column("id_tail", sa.String(length=4), nullable=False),
        sa.Column("gender", sa.String(length=8), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("ethnicity", sa.String(length=32), nullable=True),
        sa.Column("political_status", sa.String(length=32), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_index", sa.String(length=64), nullable=True),
        sa.Column("phone_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("emergency_name", sa.String(length=64), nullable=True),
        sa.Column("emergency_phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("has_work_unit", sa.Boolean(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_trainee_profile_account_id_account")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_trainee_profile")),
        sa.UniqueConstraint("id_number_index", name=op.f("uq_trainee_profile_id_number_index")),
        sa.UniqueConstraint("phone_index", name=op.f("uq_trainee_profile_phone_index")),
    )
    with op.batch_alter_table("trainee_profile", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trainee_profile_id_tail"), ["id_tail"], unique=False)

    op.create_table(
        "trainee_status_card",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_trainee_status_card_account_id_account")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_trainee_status_card")),
    )
    op.create_table(
        "work_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("unit_name", sa.String(length=128), nullable=False),
        sa.Column("position", sa.String(length=64), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_work_record_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_record")),
    )
    with op.batch_alter_table("work_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_record_account_id"), ["account_id"], unique=False)

    op.create_table(
        "allocation_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("specialty_id", sa.Integer(), nullable=False),
        sa.Column("offered_by", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_allocation_offer_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["base_id"], ["base.id"], name=op.f("fk_allocation_offer_base_id_base")
        ),
        sa.ForeignKeyConstraint(
            ["offered_by"], ["account.id"], name=op.f("fk_allocation_offer_offered_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["base.id"], name=op.f("fk_allocation_offer_site_id_base")
        ),
        sa.ForeignKeyConstraint(
            ["specialty_id"],
            ["specialty.id"],
            name=op.f("fk_allocation_offer_specialty_id_specialty"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_offer")),
    )
    with op.batch_alter_table("allocation_offer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_allocation_offer_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_allocation_offer_status_expires_at"),
            ["status", "expires_at"],
            unique=False,
        )
        batch_op.create_index(
            "uq_allocation_offer_open",
            ["application_id"],
            unique=True,
            sqlite_where=sa.text("status = 'offered'"),
            postgresql_where=sa.text("status = 'offered'"),
        )

    op.create_table(
        "change_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("old_value", sa.String(length=200), nullable=True),
        sa.Column("new_value", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("filed_by", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_change_request_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["base_id"], ["base.id"], name=op.f("fk_change_request_base_id_base")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["account.id"], name=op.f("fk_change_request_decided_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["filed_by"], ["account.id"], name=op.f("fk_change_request_filed_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_request")),
    )
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_request_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_change_request_status_base_id"), ["status", "base_id"], unique=False
        )

    op.create_table(
        "training",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("duration_years", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reduction_applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_training_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_training_application_id_application"),
        ),
        sa.ForeignKeyConstraint(["base_id"], ["base.id"], name=op.f("fk_training_base_id_base")),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["account.id"], name=op.f("fk_training_updated_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training")),
        sa.UniqueConstraint("application_id", name=op.f("uq_training_application_id")),
    )
    with op.batch_alter_table("training", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_base_id"), ["base_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_start_date"), ["start_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_training_status_created_at"), ["status", "created_at"], unique=False
        )

    op.create_table(
        "reduction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_back_by", sa.String(length=16), nullable=True),
        sa.Column("sent_back_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["base_id"], ["base.id"], name=op.f("fk_reduction_base_id_base")),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], name=op.f("fk_reduction_city_id_city")),
        sa.ForeignKeyConstraint(
            ["training_id"], ["training.id"], name=op.f("fk_reduction_training_id_training")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reduction")),
    )
    with op.batch_alter_table("reduction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reduction_status_base_id"), ["status", "base_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reduction_status_city_id"), ["status", "city_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reduction_training_id"), ["training_id"], unique=False)

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reduction_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["reduction_id"], ["reduction.id"], name=op.f("fk_document_reduction_id_reduction")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["account.id"], name=op.f("fk_document_uploaded_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_reduction_id"), ["reduction_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_reduction_id"))

    op.drop_table("document")
    with op.batch_alter_table("reduction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reduction_training_id"))
        batch_op.drop_index(batch_op.f("ix_reduction_status_city_id"))
        batch_op.drop_index(batch_op.f("ix_reduction_status_base_id"))

    op.drop_table("reduction")
    with op.batch_alter_table("training", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_status_created_at"))
        batch_op.drop_index(batch_op.f("ix_training_start_date"))
        batch_op.drop_index(batch_op.f("ix_training_base_id"))
        batch_op.drop_index(batch_op.f("ix_training_account_id"))

    op.drop_table("training")
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_request_status_base_id"))
        batch_op.drop_index(batch_op.f("ix_change_request_application_id"))

    op.drop_table("change_request")
    with op.batch_alter_table("allocation_offer", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_allocation_offer_open",
            sqlite_where=sa.text("status = 'offered'"),
            postgresql_where=sa.text("status = 'offered'"),
        )
        batch_op.drop_index(batch_op.f("ix_allocation_offer_status_expires_at"))
        batch_op.drop_index(batch_op.f("ix_allocation_offer_application_id"))

    op.drop_table("allocation_offer")
    with op.batch_alter_table("work_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_record_account_id"))

    op.drop_table("work_record")
    op.drop_table("trainee_status_card")
    with op.batch_alter_table("trainee_profile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trainee_profile_id_tail"))

    op.drop_table("trainee_profile")
    op.drop_table("telegram_user")
    op.drop_table("reminder_mute")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_base_id"))

    op.drop_table("plan")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_status_lease_until"))
        batch_op.drop_index(batch_op.f("ix_outbox_status_deadline_at_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_kind_subject"))
        batch_op.drop_index(batch_op.f("ix_outbox_account_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_account_id"))

    op.drop_table("invitation")
    op.drop_table("handover")
    with op.batch_alter_table("education_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_education_record_account_id"))

    op.drop_table("education_record")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_entity_entity_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_application_one_admission_per_year",
            sqlite_where=sa.text("status IN ('accepted', 'confirmed')"),
            postgresql_where=sa.text("status IN ('accepted', 'confirmed')"),
        )
        batch_op.drop_index(batch_op.f("ix_application_updated_at"))
        batch_op.drop_index(batch_op.f("ix_application_status_deadline_at"))
        batch_op.drop_index(batch_op.f("ix_application_status_acceptable_at"))
        batch_op.drop_index(batch_op.f("ix_application_batch_id_base_id_status"))
        batch_op.drop_index(batch_op.f("ix_application_base_id_status"))

    op.drop_table("application")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_role"))
        batch_op.drop_index(batch_op.f("ix_account_city_id"))
        batch_op.drop_index(batch_op.f("ix_account_base_id"))

    op.drop_table("account")
    op.drop_table("batch_personnel_type")
    with op.batch_alter_table("base", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_base_parent_id"))
        batch_op.drop_index(batch_op.f("ix_base_city_id"))

    op.drop_table("base")
    op.drop_table("specialty")
    with op.batch_alter_table("phone_verification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_verification_expires_at"))

    op.drop_table("phone_verification")
    op.drop_table("outbox_leader")
    op.drop_table("login_throttle")
    op.drop_table("inbox_update")
    op.drop_table("fsm_record")
    op.drop_table("city")
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_cohort_year"))
        batch_op.drop_index(batch_op.f("ix_batch_apply_end"))

    op.drop_table("batch")
