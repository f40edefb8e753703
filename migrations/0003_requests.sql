-- 0003: what media requests need beyond the first schema.
-- Claims make "one Overseerr request per title (or season)" a database decision, so
-- twenty people pressing Request at once produce exactly one request. Events make
-- every status transition notified exactly once, whether the webhook or the poll
-- saw it first. Requests made in Overseerr's web UI may belong to nobody we know.

ALTER TABLE media_requests ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE media_requests
    ADD COLUMN requested_via         text NOT NULL DEFAULT 'discord' CHECK (requested_via IN ('discord', 'overseerr')),
    ADD COLUMN requested_by_name     text,
    ADD COLUMN overseerr_user_id     integer,
    ADD COLUMN approval_channel_id   bigint,
    ADD COLUMN approval_message_id   bigint;
CREATE INDEX media_requests_open_idx ON media_requests (status)
    WHERE status IN ('pending', 'approved', 'processing', 'partially_available');

-- one open claim per title, 4K or not, and season (0 for a movie)
CREATE TABLE media_claims (
    media_type   text NOT NULL CHECK (media_type IN ('movie', 'tv')),
    tmdb_id      integer NOT NULL,
    is_4k        boolean NOT NULL,
    season       integer NOT NULL DEFAULT 0,
    request_id   bigint NOT NULL REFERENCES media_requests (id) ON DELETE CASCADE,
    PRIMARY KEY (media_type, tmdb_id, is_4k, season)
);
CREATE INDEX media_claims_request_idx ON media_claims (request_id);

-- "Notify me too"
CREATE TABLE request_subscribers (
    request_id   bigint NOT NULL REFERENCES media_requests (id) ON DELETE CASCADE,
    user_id      bigint NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, user_id)
);

-- each status a request reached, recorded once; the insert that wins notifies
CREATE TABLE request_events (
    request_id   bigint NOT NULL REFERENCES media_requests (id) ON DELETE CASCADE,
    status       text NOT NULL,
    source       text NOT NULL CHECK (source IN ('discord', 'webhook', 'poll')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, status)
);

-- where each kind of notification goes, set by admins from Discord
CREATE TABLE notification_routes (
    topic        text PRIMARY KEY CHECK (topic IN ('new_request', 'approval_needed', 'decisions', 'available', 'failures')),
    channel_id   bigint NOT NULL,
    updated_by   bigint,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
