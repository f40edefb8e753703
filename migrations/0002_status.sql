-- 0002: the status board's admin settings live in the database, so /admin status
-- changes apply without a restart. STATUS_CHANNEL_IDS stays the default set of
-- board channels; a row with enabled = false removes one of them, a row with
-- added_by set is a channel an admin added. Rows the board loop writes for the
-- configured channels (added_by NULL) only remember the message to edit.
ALTER TABLE status_messages
    ADD COLUMN enabled  boolean NOT NULL DEFAULT true,
    ADD COLUMN added_by bigint;

-- per server: who is pinged when a service goes down, and whether recoveries are posted.
-- No row means the STATUS_PING_ROLE_ID / STATUS_SILENCE_UP defaults.
CREATE TABLE status_settings (
    guild_id              bigint PRIMARY KEY,
    ping_role_id          bigint,
    silence_up            boolean NOT NULL DEFAULT false,
    updated_by            bigint,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
