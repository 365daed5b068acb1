-- Lobsters (link aggregation community)
-- source: https://github.com/lobsters/lobsters (db/schema.rb at commit 57268d762e1c2c95b7a8e64ee8deb259cddd8cc0)
-- licence: BSD-3-Clause
-- converted from Rails schema.rb by corpus/tools/schema_rb_to_sql.py (tables, keys, unique columns, foreign keys)
-- Part of the pullprod detector corpus: only the schema (no data); see corpus/README.md.

CREATE TABLE "action_mailbox_inbound_emails" (
    "id" bigint NOT NULL,
    "status" integer NOT NULL,
    "message_id" character varying NOT NULL,
    "message_checksum" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "active_storage_attachments" (
    "id" bigint NOT NULL,
    "name" character varying NOT NULL,
    "record_type" character varying NOT NULL,
    "record_id" bigint NOT NULL,
    "blob_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "active_storage_blobs" (
    "id" bigint NOT NULL,
    "key" character varying NOT NULL,
    "filename" character varying NOT NULL,
    "content_type" character varying,
    "metadata" text,
    "service_name" character varying NOT NULL,
    "byte_size" bigint NOT NULL,
    "checksum" character varying,
    "created_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "active_storage_variant_records" (
    "id" bigint NOT NULL,
    "blob_id" bigint NOT NULL,
    "variation_digest" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "categories" (
    "id" bigint NOT NULL,
    "category" character varying(25) NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "comment_stats" (
    "id" bigint NOT NULL,
    "date" date NOT NULL,
    "average" integer NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "comments" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone,
    "short_id" character varying(10) NOT NULL,
    "story_id" bigint NOT NULL,
    "confidence_order" bytea NOT NULL,
    "user_id" bigint NOT NULL,
    "parent_comment_id" bigint,
    "thread_id" bigint,
    "comment" text NOT NULL,
    "score" integer NOT NULL,
    "flags" integer NOT NULL,
    "confidence" numeric(20,19) NOT NULL,
    "markeddown_comment" text,
    "is_deleted" boolean NOT NULL,
    "is_moderated" boolean NOT NULL,
    "is_from_email" boolean NOT NULL,
    "hat_id" bigint,
    "depth" integer NOT NULL,
    "reply_count" integer NOT NULL,
    "last_reply_at" timestamp without time zone,
    "last_edited_at" timestamp without time zone NOT NULL,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "domains" (
    "id" bigint NOT NULL,
    "domain" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "banned_at" timestamp without time zone,
    "banned_by_user_id" bigint,
    "banned_reason" character varying(200),
    "selector" character varying,
    "replacement" character varying,
    "stories_count" integer NOT NULL,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "hat_requests" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone,
    "updated_at" timestamp without time zone,
    "user_id" bigint NOT NULL,
    "hat" character varying NOT NULL,
    "link" character varying NOT NULL,
    "comment" text NOT NULL,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "hats" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone,
    "updated_at" timestamp without time zone,
    "user_id" bigint NOT NULL,
    "granted_by_user_id" bigint NOT NULL,
    "hat" character varying NOT NULL,
    "link" character varying,
    "modlog_use" boolean NOT NULL,
    "doffed_at" timestamp without time zone,
    "short_id" character varying(10) NOT NULL,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "hidden_stories" (
    "id" bigint NOT NULL,
    "user_id" bigint NOT NULL,
    "story_id" bigint NOT NULL,
    "created_at" timestamp without time zone,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "invitation_requests" (
    "id" bigint NOT NULL,
    "code" character varying,
    "is_verified" boolean NOT NULL,
    "email" character varying NOT NULL,
    "name" character varying NOT NULL,
    "memo" text,
    "ip_address" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "invitations" (
    "id" bigint NOT NULL,
    "user_id" bigint NOT NULL,
    "email" character varying,
    "code" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "memo" text,
    "used_at" timestamp without time zone,
    "new_user_id" bigint,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "keystores" (
    "id" bigint NOT NULL,
    "key" character varying(50) NOT NULL,
    "value" bigint,
    PRIMARY KEY ("id")
);

CREATE TABLE "links" (
    "id" bigint NOT NULL,
    "url" character varying(250) NOT NULL,
    "normalized_url" character varying NOT NULL,
    "title" character varying,
    "from_story_id" bigint,
    "from_comment_id" bigint,
    "to_story_id" bigint,
    "to_comment_id" bigint,
    PRIMARY KEY ("id")
);

CREATE TABLE "mastodon_apps" (
    "id" bigint NOT NULL,
    "name" character varying NOT NULL,
    "client_id" character varying NOT NULL,
    "client_secret" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "messages" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone,
    "author_user_id" bigint,
    "recipient_user_id" bigint NOT NULL,
    "subject" character varying(100),
    "body" text,
    "short_id" character varying(30) NOT NULL,
    "deleted_by_author" boolean NOT NULL,
    "deleted_by_recipient" boolean NOT NULL,
    "hat_id" bigint,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "mod_activities" (
    "id" bigint NOT NULL,
    "item_type" character varying NOT NULL,
    "item_id" bigint NOT NULL,
    "token" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "mod_mail_messages" (
    "id" bigint NOT NULL,
    "mod_mail_id" bigint NOT NULL,
    "message" text NOT NULL,
    "user_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "mod_mail_recipients" (
    "id" bigint NOT NULL,
    "mod_mail_id" bigint NOT NULL,
    "user_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "mod_mail_references" (
    "id" bigint NOT NULL,
    "mod_mail_id" bigint NOT NULL,
    "reference_type" character varying NOT NULL,
    "reference_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "mod_mails" (
    "id" bigint NOT NULL,
    "subject" character varying NOT NULL,
    "remind_mods_at" timestamp without time zone,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "short_id" character varying(10) NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "mod_notes" (
    "id" bigint NOT NULL,
    "moderator_user_id" bigint NOT NULL,
    "user_id" bigint NOT NULL,
    "note" text NOT NULL,
    "markeddown_note" text NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "moderations" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "moderator_user_id" bigint,
    "story_id" bigint,
    "comment_id" bigint,
    "user_id" bigint,
    "action" text NOT NULL,
    "reason" text,
    "is_from_suggestions" boolean NOT NULL,
    "tag_id" bigint,
    "domain_id" bigint,
    "category_id" bigint,
    "origin_id" bigint,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "notifications" (
    "id" bigint NOT NULL,
    "user_id" bigint NOT NULL,
    "notifiable_type" character varying NOT NULL,
    "notifiable_id" bigint NOT NULL,
    "read_at" timestamp without time zone,
    "token" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "origins" (
    "id" bigint NOT NULL,
    "domain_id" bigint NOT NULL,
    "identifier" character varying NOT NULL,
    "stories_count" integer NOT NULL,
    "banned_at" timestamp without time zone,
    "banned_by_user_id" bigint,
    "banned_reason" character varying(200),
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "read_ribbons" (
    "id" bigint NOT NULL,
    "is_following" boolean NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint NOT NULL,
    "story_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "saved_stories" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint NOT NULL,
    "story_id" bigint NOT NULL,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "stories" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone,
    "user_id" bigint NOT NULL,
    "url" character varying(250),
    "normalized_url" character varying,
    "title" character varying(150) NOT NULL,
    "description" text,
    "short_id" character varying(6) NOT NULL,
    "is_deleted" boolean NOT NULL,
    "score" integer NOT NULL,
    "flags" integer NOT NULL,
    "is_moderated" boolean NOT NULL,
    "hotness" numeric(20,10) NOT NULL,
    "markeddown_description" text,
    "comments_count" integer NOT NULL,
    "merged_story_id" bigint,
    "unavailable_at" timestamp without time zone,
    "twitter_id" character varying(20),
    "user_is_author" boolean NOT NULL,
    "user_is_following" boolean NOT NULL,
    "domain_id" bigint,
    "mastodon_id" character varying(25),
    "origin_id" bigint,
    "last_comment_at" timestamp without time zone,
    "stories_count" integer NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "last_edited_at" timestamp without time zone NOT NULL,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "story_texts" (
    "id" bigint NOT NULL,
    "title" character varying(150) NOT NULL,
    "description" text,
    "body" text,
    "created_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "suggested_taggings" (
    "id" bigint NOT NULL,
    "story_id" bigint NOT NULL,
    "tag_id" bigint NOT NULL,
    "user_id" bigint NOT NULL,
    "created_at" timestamp without time zone,
    "updated_at" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "suggested_titles" (
    "id" bigint NOT NULL,
    "story_id" bigint NOT NULL,
    "user_id" bigint NOT NULL,
    "title" character varying(150) NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "tag_filters" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint NOT NULL,
    "tag_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "taggings" (
    "id" bigint NOT NULL,
    "story_id" bigint NOT NULL,
    "tag_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "tags" (
    "id" bigint NOT NULL,
    "tag" character varying(25) NOT NULL,
    "description" character varying(100),
    "privileged" boolean NOT NULL,
    "is_media" boolean NOT NULL,
    "active" boolean NOT NULL,
    "hotness_mod" double precision,
    "permit_by_new_users" boolean NOT NULL,
    "category_id" bigint NOT NULL,
    "token" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "quorum" integer,
    PRIMARY KEY ("id")
);

CREATE TABLE "usernames" (
    "id" bigint NOT NULL,
    "username" character varying NOT NULL,
    "user_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "renamed_away_at" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "users" (
    "id" bigint NOT NULL,
    "username" character varying(50),
    "email" character varying(100),
    "password_digest" character varying(75),
    "created_at" timestamp without time zone,
    "is_admin" boolean NOT NULL,
    "password_reset_token" character varying(75),
    "session_token" character varying(75) NOT NULL,
    "about" text,
    "invited_by_user_id" bigint,
    "is_moderator" boolean NOT NULL,
    "pushover_mentions" boolean NOT NULL,
    "rss_token" character varying(75),
    "mailing_list_token" character varying(75),
    "mailing_list_mode" integer,
    "karma" integer NOT NULL,
    "banned_at" timestamp without time zone,
    "banned_by_user_id" bigint,
    "banned_reason" character varying(256),
    "deleted_at" timestamp without time zone,
    "disabled_invite_at" timestamp without time zone,
    "disabled_invite_by_user_id" bigint,
    "disabled_invite_reason" character varying(200),
    "settings" text,
    "show_email" boolean NOT NULL,
    "last_read_newest_story" timestamp without time zone,
    "last_read_newest_comment" timestamp without time zone,
    "token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "votes" (
    "id" bigint NOT NULL,
    "user_id" bigint NOT NULL,
    "story_id" bigint NOT NULL,
    "comment_id" bigint,
    "vote" smallint NOT NULL,
    "reason" character varying(1) NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

ALTER TABLE "active_storage_attachments" ADD FOREIGN KEY ("blob_id") REFERENCES "active_storage_blobs" ("id");

ALTER TABLE "active_storage_variant_records" ADD FOREIGN KEY ("blob_id") REFERENCES "active_storage_blobs" ("id");

ALTER TABLE "comments" ADD FOREIGN KEY ("parent_comment_id") REFERENCES "comments" ("id");

ALTER TABLE "comments" ADD FOREIGN KEY ("hat_id") REFERENCES "hats" ("id");

ALTER TABLE "comments" ADD FOREIGN KEY ("story_id") REFERENCES "stories" ("id");

ALTER TABLE "comments" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "domains" ADD FOREIGN KEY ("banned_by_user_id") REFERENCES "users" ("id");

ALTER TABLE "hat_requests" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "hats" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "hats" ADD FOREIGN KEY ("granted_by_user_id") REFERENCES "users" ("id");

ALTER TABLE "hidden_stories" ADD FOREIGN KEY ("story_id") REFERENCES "stories" ("id");

ALTER TABLE "hidden_stories" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "invitations" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "invitations" ADD FOREIGN KEY ("new_user_id") REFERENCES "users" ("id");

ALTER TABLE "links" ADD FOREIGN KEY ("from_comment_id") REFERENCES "comments" ("id");

ALTER TABLE "links" ADD FOREIGN KEY ("to_comment_id") REFERENCES "comments" ("id");

ALTER TABLE "links" ADD FOREIGN KEY ("from_story_id") REFERENCES "stories" ("id");

ALTER TABLE "links" ADD FOREIGN KEY ("to_story_id") REFERENCES "stories" ("id");

ALTER TABLE "messages" ADD FOREIGN KEY ("hat_id") REFERENCES "hats" ("id");

ALTER TABLE "messages" ADD FOREIGN KEY ("author_user_id") REFERENCES "users" ("id");

ALTER TABLE "messages" ADD FOREIGN KEY ("recipient_user_id") REFERENCES "users" ("id");

ALTER TABLE "mod_mail_messages" ADD FOREIGN KEY ("mod_mail_id") REFERENCES "mod_mails" ("id");

ALTER TABLE "mod_mail_messages" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "mod_mail_recipients" ADD FOREIGN KEY ("mod_mail_id") REFERENCES "mod_mails" ("id");

ALTER TABLE "mod_mail_recipients" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "mod_mail_references" ADD FOREIGN KEY ("mod_mail_id") REFERENCES "mod_mails" ("id");

ALTER TABLE "mod_notes" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "mod_notes" ADD FOREIGN KEY ("moderator_user_id") REFERENCES "users" ("id");

ALTER TABLE "moderations" ADD FOREIGN KEY ("category_id") REFERENCES "categories" ("id");

ALTER TABLE "moderations" ADD FOREIGN KEY ("comment_id") REFERENCES "comments" ("id");

ALTER TABLE "moderations" ADD FOREIGN KEY ("domain_id") REFERENCES "domains" ("id");

ALTER TABLE "moderations" ADD FOREIGN KEY ("origin_id") REFERENCES "origins" ("id");

ALTER TABLE "moderations" ADD FOREIGN KEY ("story_id") REFERENCES "stories" ("id");

ALTER TABLE "moderations" ADD FOREIGN KEY ("tag_id") REFERENCES "tags" ("id");

ALTER TABLE "moderations" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "moderations" ADD FOREIGN KEY ("moderator_user_id") REFERENCES "users" ("id");

ALTER TABLE "notifications" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "origins" ADD FOREIGN KEY ("domain_id") REFERENCES "domains" ("id");

ALTER TABLE "origins" ADD FOREIGN KEY ("banned_by_user_id") REFERENCES "users" ("id");

ALTER TABLE "read_ribbons" ADD FOREIGN KEY ("story_id") REFERENCES "stories" ("id");

ALTER TABLE "read_ribbons" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "saved_stories" ADD FOREIGN KEY ("story_id") REFERENCES "stories" ("id");

ALTER TABLE "saved_stories" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "stories" ADD FOREIGN KEY ("domain_id") REFERENCES "domains" ("id");

ALTER TABLE "stories" ADD FOREIGN KEY ("origin_id") REFERENCES "origins" ("id");

ALTER TABLE "stories" ADD FOREIGN KEY ("merged_story_id") REFERENCES "stories" ("id");

ALTER TABLE "stories" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "suggested_taggings" ADD FOREIGN KEY ("story_id") REFERENCES "stories" ("id");

ALTER TABLE "suggested_taggings" ADD FOREIGN KEY ("tag_id") REFERENCES "tags" ("id");

ALTER TABLE "suggested_taggings" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "suggested_titles" ADD FOREIGN KEY ("story_id") REFERENCES "stories" ("id");

ALTER TABLE "suggested_titles" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "tag_filters" ADD FOREIGN KEY ("tag_id") REFERENCES "tags" ("id");

ALTER TABLE "tag_filters" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "taggings" ADD FOREIGN KEY ("story_id") REFERENCES "stories" ("id");

ALTER TABLE "taggings" ADD FOREIGN KEY ("tag_id") REFERENCES "tags" ("id");

ALTER TABLE "tags" ADD FOREIGN KEY ("category_id") REFERENCES "categories" ("id");

ALTER TABLE "usernames" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "users" ADD FOREIGN KEY ("banned_by_user_id") REFERENCES "users" ("id");

ALTER TABLE "users" ADD FOREIGN KEY ("disabled_invite_by_user_id") REFERENCES "users" ("id");

ALTER TABLE "users" ADD FOREIGN KEY ("invited_by_user_id") REFERENCES "users" ("id");

ALTER TABLE "votes" ADD FOREIGN KEY ("comment_id") REFERENCES "comments" ("id");

ALTER TABLE "votes" ADD FOREIGN KEY ("story_id") REFERENCES "stories" ("id");

ALTER TABLE "votes" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");
