-- 0001: the schema the seed implies, as a Discord bot needs it.
-- The Discord user id is the identity (the seed's JWT session becomes the link row);
-- Plex tokens are stored encrypted by the application, never in clear.

CREATE TABLE users (
    discord_id            bigint PRIMARY KEY,
    plex_id               bigint UNIQUE,
    plex_uuid             text,
    plex_username         text,
    plex_email            text,
    plex_token_encrypted  bytea,
    plex_token_stale      boolean NOT NULL DEFAULT false,
    linked_at             timestamptz,
    overseerr_user_id     integer UNIQUE,
    role                  text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    status                text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'banned')),
    status_reason         text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    last_seen_at          timestamptz,
    -- a link is all or nothing: a token without its Plex account (or the reverse) is a bug
    CONSTRAINT users_link_complete CHECK ((plex_id IS NULL) = (plex_token_encrypted IS NULL))
);
CREATE INDEX users_role_idx ON users (role) WHERE role = 'admin';

CREATE TABLE media_requests (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id               bigint NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    media_type            text NOT NULL CHECK (media_type IN ('movie', 'tv')),
    tmdb_id               integer NOT NULL,
    tvdb_id               integer,
    title                 text NOT NULL,
    year                  integer,
    poster_path           text,
    seasons               integer[],
    is_4k                 boolean NOT NULL DEFAULT false,
    status                text NOT NULL DEFAULT 'pending' CHECK (status IN (
                              'pending', 'approved', 'declined', 'processing',
                              'partially_available', 'available', 'failed', 'cancelled')),
    overseerr_request_id  integer UNIQUE,
    overseerr_media_id    integer,
    decided_by            bigint,
    decided_at            timestamptz,
    decline_reason        text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    completed_at          timestamptz
);
-- a user cannot hold two open requests for the same title
CREATE UNIQUE INDEX media_requests_one_open_per_user
    ON media_requests (user_id, media_type, tmdb_id, is_4k)
    WHERE status IN ('pending', 'approved', 'processing', 'partially_available');
CREATE INDEX media_requests_user_created_idx ON media_requests (user_id, created_at DESC);
CREATE INDEX media_requests_status_idx ON media_requests (status, created_at DESC);
CREATE INDEX media_requests_tmdb_idx ON media_requests (media_type, tmdb_id);

CREATE TABLE downloads (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id               bigint NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    url                   text NOT NULL,
    kind                  text NOT NULL CHECK (kind IN ('video', 'playlist', 'auto')),  -- auto: yt-dlp decides
    quality               text NOT NULL DEFAULT 'best',
    title                 text,
    status                text NOT NULL DEFAULT 'queued' CHECK (status IN (
                              'queued', 'running', 'completed', 'failed', 'cancelled')),
    job_id                text UNIQUE,
    attempts              integer NOT NULL DEFAULT 0,
    error_code            text,
    error_message         text,
    video_count           integer,
    videos_done           integer NOT NULL DEFAULT 0,
    videos_failed         integer NOT NULL DEFAULT 0,
    bytes_done            bigint NOT NULL DEFAULT 0,
    folder                text,
    entries               jsonb NOT NULL DEFAULT '[]'::jsonb,  -- [[extractor, video id], ...] as listed
    plex_state            text CHECK (plex_state IN ('pending', 'done', 'partial', 'failed')),
    plex_error            text,
    plex_collection_key   text,
    plex_collection_title text,
    channel_id            bigint,
    message_id            bigint,
    created_at            timestamptz NOT NULL DEFAULT now(),
    started_at            timestamptz,
    finished_at           timestamptz,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX downloads_user_created_idx ON downloads (user_id, created_at DESC);
CREATE INDEX downloads_status_idx ON downloads (status, created_at);

-- the download archive: one row per video a user has, so a playlist fetched
-- again downloads only what is new (the database, not a text file, is the archive)
CREATE TABLE download_items (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    download_id           bigint NOT NULL REFERENCES downloads (id) ON DELETE CASCADE,
    user_id               bigint NOT NULL REFERENCES users (discord_id) ON DELETE CASCADE,
    extractor             text NOT NULL,
    video_id              text NOT NULL,
    title                 text,
    file_path             text,
    size_bytes            bigint,
    status                text NOT NULL CHECK (status IN ('completed', 'failed')),
    error_message         text,
    plex_rating_key       text,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX download_items_archive
    ON download_items (user_id, extractor, video_id) WHERE status = 'completed';
CREATE INDEX download_items_download_idx ON download_items (download_id);

CREATE TABLE audit_log (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id              bigint,
    action                text NOT NULL,
    target_type           text,
    target_id             text,
    reason                text,
    details               jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, created_at DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, created_at DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, created_at DESC);

-- one live status board message per channel, reused across restarts
CREATE TABLE status_messages (
    channel_id            bigint PRIMARY KEY,
    guild_id              bigint,
    message_id            bigint,
    content_hash          text,
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- runtime settings that admins change from Discord (channels, limits); typed in code
CREATE TABLE app_settings (
    key                   text PRIMARY KEY,
    value                 jsonb NOT NULL,
    updated_by            bigint,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
