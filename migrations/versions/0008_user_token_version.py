"""users: a token version, bumped when the password, a role or the scope changes

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"),
    )
    # Bearer tokens carry the version they were issued under (resolvers/users.py). The
    # rule lives here, so that every way of changing a user (the API, the CLI, SQL by
    # hand) revokes the tokens the change should revoke; adding a role revokes nothing.
    op.execute(
        """
        CREATE FUNCTION users_bump_token_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.password_hash IS DISTINCT FROM OLD.password_hash
               OR NOT string_to_array(NEW.roles, ',') @> string_to_array(OLD.roles, ',')
               OR NEW.community_id IS DISTINCT FROM OLD.community_id
               OR NEW.partner_id IS DISTINCT FROM OLD.partner_id
            THEN
                NEW.token_version := OLD.token_version + 1;
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_token_version BEFORE UPDATE ON users
        FOR EACH ROW EXECUTE FUNCTION users_bump_token_version()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_token_version ON users")
    op.execute("DROP FUNCTION users_bump_token_version()")
    op.drop_column("users", "token_version")
