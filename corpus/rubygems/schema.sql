-- rubygems.org (the Ruby gem registry)
-- source: https://github.com/rubygems/rubygems.org (db/schema.rb at commit 3c8ea0d4cbe85bd2a2bb5d22486247656a3dfb6c)
-- licence: MIT
-- converted from Rails schema.rb by corpus/tools/schema_rb_to_sql.py (tables, keys, unique columns, foreign keys)
-- Part of the pullprod detector corpus: only the schema (no data); see corpus/README.md.

CREATE TABLE "admin_github_users" (
    "id" bigint NOT NULL,
    "avatar_url" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "github_id" character varying,
    "info_data" json,
    "is_admin" boolean,
    "login" character varying,
    "oauth_token" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "api_key_rubygem_scopes" (
    "id" bigint NOT NULL,
    "api_key_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "ownership_id" bigint NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "api_keys" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "expires_at" timestamp without time zone,
    "hashed_key" character varying NOT NULL,
    "last_accessed_at" timestamp without time zone,
    "mfa" boolean NOT NULL,
    "name" character varying NOT NULL,
    "owner_id" bigint,
    "owner_type" character varying,
    "scopes" character varying[],
    "soft_deleted_at" timestamp without time zone,
    "soft_deleted_rubygem_name" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "attestations" (
    "id" bigint NOT NULL,
    "body" jsonb,
    "created_at" timestamp without time zone NOT NULL,
    "media_type" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    "version_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "audits" (
    "id" bigint NOT NULL,
    "action" character varying NOT NULL,
    "admin_github_user_id" bigint NOT NULL,
    "auditable_id" bigint NOT NULL,
    "auditable_type" character varying NOT NULL,
    "audited_changes" text,
    "comment" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "blazer_audits" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone,
    "data_source" character varying,
    "query_id" bigint,
    "statement" text,
    "user_id" bigint,
    PRIMARY KEY ("id")
);

CREATE TABLE "blazer_checks" (
    "id" bigint NOT NULL,
    "check_type" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "creator_id" bigint,
    "emails" text,
    "last_run_at" timestamp without time zone,
    "message" text,
    "query_id" bigint,
    "schedule" character varying,
    "slack_channels" text,
    "state" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "blazer_dashboard_queries" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "dashboard_id" bigint,
    "position" integer,
    "query_id" bigint,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "blazer_dashboards" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "creator_id" bigint,
    "name" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "blazer_queries" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "creator_id" bigint,
    "data_source" character varying,
    "description" text,
    "name" character varying,
    "statement" text,
    "status" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "blocked_email_domains" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "domain" character varying NOT NULL,
    "notes" text,
    "source" integer NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "deletions" (
    "id" integer NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "number" character varying,
    "platform" character varying,
    "rubygem" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" integer,
    "version_id" bigint,
    PRIMARY KEY ("id")
);

CREATE TABLE "dependencies" (
    "id" integer NOT NULL,
    "created_at" timestamp without time zone,
    "requirements" character varying,
    "rubygem_id" integer,
    "scope" character varying,
    "unresolved_name" character varying,
    "updated_at" timestamp without time zone,
    "version_id" integer,
    PRIMARY KEY ("id")
);

CREATE TABLE "email_domain_allowlists" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "domain" character varying NOT NULL,
    "notes" text,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "events_organization_events" (
    "id" bigint NOT NULL,
    "additional" jsonb,
    "created_at" timestamp without time zone NOT NULL,
    "geoip_info_id" bigint,
    "ip_address_id" bigint,
    "organization_id" bigint NOT NULL,
    "tag" character varying NOT NULL,
    "trace_id" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "events_rubygem_events" (
    "id" bigint NOT NULL,
    "additional" jsonb,
    "created_at" timestamp without time zone NOT NULL,
    "geoip_info_id" bigint,
    "ip_address_id" bigint,
    "rubygem_id" bigint NOT NULL,
    "tag" character varying NOT NULL,
    "trace_id" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "events_user_events" (
    "id" bigint NOT NULL,
    "additional" jsonb,
    "created_at" timestamp without time zone NOT NULL,
    "geoip_info_id" bigint,
    "ip_address_id" bigint,
    "tag" character varying NOT NULL,
    "trace_id" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "flipper_features" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "key" character varying NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "flipper_gates" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "feature_key" character varying NOT NULL,
    "key" character varying NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "value" text,
    PRIMARY KEY ("id")
);

CREATE TABLE "gem_downloads" (
    "id" integer NOT NULL,
    "count" bigint,
    "rubygem_id" integer NOT NULL,
    "version_id" integer NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "gem_name_reservations" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "name" character varying NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "gem_typo_exceptions" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "info" text,
    "name" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "geoip_infos" (
    "id" bigint NOT NULL,
    "city" character varying,
    "continent_code" character varying(2),
    "country_code" character varying(2),
    "country_code3" character varying(3),
    "country_name" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "region" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "good_job_batches" (
    "id" uuid NOT NULL,
    "callback_priority" integer,
    "callback_queue_name" text,
    "created_at" timestamp without time zone NOT NULL,
    "description" text,
    "discarded_at" timestamp without time zone,
    "enqueued_at" timestamp without time zone,
    "finished_at" timestamp without time zone,
    "on_discard" text,
    "on_finish" text,
    "on_success" text,
    "serialized_properties" jsonb,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "good_job_executions" (
    "id" uuid NOT NULL,
    "active_job_id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "duration" interval,
    "error" text,
    "error_backtrace" text[],
    "error_event" smallint,
    "finished_at" timestamp without time zone,
    "job_class" text,
    "process_id" uuid,
    "queue_name" text,
    "scheduled_at" timestamp without time zone,
    "serialized_params" jsonb,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "good_job_processes" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "lock_type" smallint,
    "state" jsonb,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "good_job_settings" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "key" text,
    "updated_at" timestamp without time zone NOT NULL,
    "value" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "good_jobs" (
    "id" uuid NOT NULL,
    "active_job_id" uuid,
    "batch_callback_id" uuid,
    "batch_id" uuid,
    "concurrency_key" text,
    "created_at" timestamp without time zone NOT NULL,
    "cron_at" timestamp without time zone,
    "cron_key" text,
    "error" text,
    "error_event" smallint,
    "executions_count" integer,
    "finished_at" timestamp without time zone,
    "is_discrete" boolean,
    "job_class" text,
    "labels" text[],
    "locked_at" timestamp without time zone,
    "locked_by_id" uuid,
    "performed_at" timestamp without time zone,
    "priority" integer,
    "queue_name" text,
    "retried_good_job_id" uuid,
    "scheduled_at" timestamp without time zone,
    "serialized_params" jsonb,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "ip_addresses" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "geoip_info_id" bigint,
    "hashed_ip_address" text NOT NULL,
    "ip_address" inet NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "link_verifications" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "failures_since_last_verification" integer,
    "last_failure_at" timestamp without time zone,
    "last_verified_at" timestamp without time zone,
    "linkable_id" bigint NOT NULL,
    "linkable_type" character varying NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "uri" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "linksets" (
    "id" integer NOT NULL,
    "bugs" character varying,
    "code" character varying,
    "created_at" timestamp without time zone,
    "docs" character varying,
    "home" character varying,
    "mail" character varying,
    "rubygem_id" integer,
    "updated_at" timestamp without time zone,
    "wiki" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "log_tickets" (
    "id" integer NOT NULL,
    "backend" integer,
    "created_at" timestamp without time zone NOT NULL,
    "directory" character varying,
    "key" character varying,
    "processed_count" integer,
    "status" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "maintenance_tasks_runs" (
    "id" bigint NOT NULL,
    "arguments" text,
    "backtrace" text,
    "created_at" timestamp without time zone NOT NULL,
    "cursor" character varying,
    "ended_at" timestamp without time zone,
    "error_class" character varying,
    "error_message" character varying,
    "job_id" character varying,
    "lock_version" integer NOT NULL,
    "metadata" text,
    "started_at" timestamp without time zone,
    "status" character varying NOT NULL,
    "task_name" character varying NOT NULL,
    "tick_count" bigint NOT NULL,
    "tick_total" bigint,
    "time_running" double precision NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "memberships" (
    "id" bigint NOT NULL,
    "confirmed_at" timestamp without time zone,
    "created_at" timestamp without time zone NOT NULL,
    "invitation_expires_at" timestamp without time zone,
    "invited_by_id" bigint,
    "organization_id" bigint NOT NULL,
    "role" integer NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "oidc_api_key_roles" (
    "id" bigint NOT NULL,
    "access_policy" jsonb NOT NULL,
    "api_key_permissions" jsonb NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "deleted_at" timestamp without time zone,
    "name" character varying NOT NULL,
    "oidc_provider_id" bigint NOT NULL,
    "token" character varying(32) NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "oidc_id_tokens" (
    "id" bigint NOT NULL,
    "api_key_id" bigint,
    "created_at" timestamp without time zone NOT NULL,
    "jwt" jsonb NOT NULL,
    "oidc_api_key_role_id" bigint NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "oidc_pending_trusted_publishers" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "expires_at" timestamp without time zone NOT NULL,
    "rubygem_name" character varying,
    "trusted_publisher_id" bigint NOT NULL,
    "trusted_publisher_type" character varying NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "oidc_providers" (
    "id" bigint NOT NULL,
    "configuration" jsonb,
    "configuration_updated_at" timestamp without time zone,
    "created_at" timestamp without time zone NOT NULL,
    "issuer" text,
    "jwks" jsonb,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "oidc_rubygem_trusted_publishers" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "rubygem_id" bigint NOT NULL,
    "trusted_publisher_id" bigint NOT NULL,
    "trusted_publisher_type" character varying NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "oidc_trusted_publisher_github_actions" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "environment" character varying,
    "repository_name" character varying NOT NULL,
    "repository_owner" character varying NOT NULL,
    "repository_owner_id" character varying NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "workflow_filename" character varying NOT NULL,
    "workflow_repository_name" character varying,
    "workflow_repository_owner" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "organization_invites" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "invitable_id" bigint NOT NULL,
    "invitable_type" character varying NOT NULL,
    "role" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "organization_onboarding_invites" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "organization_onboarding_id" bigint NOT NULL,
    "role" character varying,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "organization_onboardings" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "created_by_id" integer NOT NULL,
    "error" text,
    "onboarded_at" timestamp without time zone,
    "onboarded_organization_id" integer,
    "organization_handle" character varying NOT NULL,
    "organization_name" character varying NOT NULL,
    "rubygems" integer[],
    "status" character varying NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "organizations" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "deleted_at" timestamp without time zone,
    "handle" character varying(40),
    "name" character varying(255),
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "ownership_calls" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "note" text,
    "rubygem_id" bigint,
    "status" boolean NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint,
    PRIMARY KEY ("id")
);

CREATE TABLE "ownership_requests" (
    "id" bigint NOT NULL,
    "approver_id" integer,
    "created_at" timestamp without time zone NOT NULL,
    "note" text,
    "ownership_call_id" bigint,
    "rubygem_id" bigint,
    "status" smallint NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint,
    PRIMARY KEY ("id")
);

CREATE TABLE "ownerships" (
    "id" integer NOT NULL,
    "authorizer_id" integer,
    "confirmed_at" timestamp without time zone,
    "created_at" timestamp without time zone,
    "owner_notifier" boolean NOT NULL,
    "ownership_request_notifier" boolean NOT NULL,
    "push_notifier" boolean NOT NULL,
    "role" integer NOT NULL,
    "rubygem_id" integer,
    "token" character varying,
    "token_expires_at" timestamp without time zone,
    "updated_at" timestamp without time zone,
    "user_id" integer,
    PRIMARY KEY ("id")
);

CREATE TABLE "rubygem_transfers" (
    "id" bigint NOT NULL,
    "completed_at" timestamp without time zone,
    "created_at" timestamp without time zone NOT NULL,
    "created_by_id" bigint NOT NULL,
    "error" text,
    "organization_id" bigint,
    "rubygems" integer[],
    "status" character varying NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "rubygems" (
    "id" integer NOT NULL,
    "created_at" timestamp without time zone,
    "indexed" boolean NOT NULL,
    "name" character varying,
    "organization_id" bigint,
    "updated_at" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "sendgrid_events" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "email" character varying,
    "event_type" character varying,
    "occurred_at" timestamp without time zone,
    "payload" jsonb NOT NULL,
    "sendgrid_id" character varying NOT NULL,
    "status" character varying NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "subscriptions" (
    "id" integer NOT NULL,
    "created_at" timestamp without time zone,
    "rubygem_id" integer,
    "updated_at" timestamp without time zone,
    "user_id" integer,
    PRIMARY KEY ("id")
);

CREATE TABLE "users" (
    "id" integer NOT NULL,
    "api_key" character varying,
    "blocked_email" character varying,
    "confirmation_token" character varying(128),
    "created_at" timestamp without time zone,
    "deleted_at" timestamp without time zone,
    "email" character varying,
    "email_confirmed" boolean NOT NULL,
    "email_reset" boolean,
    "encrypted_password" character varying(128),
    "full_name" character varying,
    "handle" character varying,
    "hide_email" boolean,
    "mail_fails" integer,
    "mfa_hashed_recovery_codes" character varying[],
    "mfa_level" integer,
    "password_reset_token_digest" character varying,
    "password_reset_token_expires_at" timestamp without time zone,
    "policies_acknowledged_at" timestamp without time zone,
    "public_email" boolean NOT NULL,
    "remember_token" character varying(128),
    "remember_token_expires_at" timestamp without time zone,
    "salt" character varying(128),
    "token" character varying(128),
    "token_expires_at" timestamp without time zone,
    "totp_seed" character varying,
    "twitter_username" character varying,
    "unconfirmed_email" character varying,
    "updated_at" timestamp without time zone,
    "webauthn_id" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "versions" (
    "id" integer NOT NULL,
    "authors" text,
    "built_at" timestamp without time zone,
    "canonical_number" character varying,
    "cert_chain" text,
    "created_at" timestamp without time zone,
    "description" text,
    "full_name" character varying,
    "gem_full_name" character varying,
    "gem_platform" character varying,
    "indexed" boolean,
    "info_checksum_v2" character varying,
    "latest" boolean,
    "licenses" character varying,
    "metadata" jsonb NOT NULL,
    "number" character varying,
    "platform" character varying,
    "position" integer,
    "prerelease" boolean,
    "pusher_api_key_id" bigint,
    "pusher_id" bigint,
    "required_ruby_version" character varying,
    "required_rubygems_version" character varying(255),
    "requirements" text,
    "ruby_abi" character varying,
    "rubygem_id" integer,
    "sha256" character varying,
    "size" integer,
    "spec_sha256" character varying(44),
    "summary" text,
    "updated_at" timestamp without time zone,
    "yanked_at" timestamp without time zone,
    "yanked_info_checksum_v2" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "web_hooks" (
    "id" integer NOT NULL,
    "created_at" timestamp without time zone,
    "disabled_at" timestamp without time zone,
    "disabled_reason" text,
    "failure_count" integer,
    "failures_since_last_success" integer,
    "last_failure" timestamp without time zone,
    "last_success" timestamp without time zone,
    "rubygem_id" integer,
    "successes_since_last_failure" integer,
    "updated_at" timestamp without time zone,
    "url" character varying,
    "user_id" integer,
    PRIMARY KEY ("id")
);

CREATE TABLE "webauthn_credentials" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "external_id" character varying NOT NULL,
    "nickname" character varying NOT NULL,
    "public_key" character varying NOT NULL,
    "sign_count" bigint NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "webauthn_verifications" (
    "id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "otp" character varying,
    "otp_expires_at" timestamp without time zone,
    "path_token" character varying(128),
    "path_token_expires_at" timestamp without time zone,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

ALTER TABLE "api_key_rubygem_scopes" ADD FOREIGN KEY ("api_key_id") REFERENCES "api_keys" ("id");

ALTER TABLE "audits" ADD FOREIGN KEY ("admin_github_user_id") REFERENCES "admin_github_users" ("id");

ALTER TABLE "events_organization_events" ADD FOREIGN KEY ("geoip_info_id") REFERENCES "geoip_infos" ("id");

ALTER TABLE "events_organization_events" ADD FOREIGN KEY ("ip_address_id") REFERENCES "ip_addresses" ("id");

ALTER TABLE "events_organization_events" ADD FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id");

ALTER TABLE "events_rubygem_events" ADD FOREIGN KEY ("geoip_info_id") REFERENCES "geoip_infos" ("id");

ALTER TABLE "events_rubygem_events" ADD FOREIGN KEY ("ip_address_id") REFERENCES "ip_addresses" ("id");

ALTER TABLE "events_user_events" ADD FOREIGN KEY ("geoip_info_id") REFERENCES "geoip_infos" ("id");

ALTER TABLE "events_user_events" ADD FOREIGN KEY ("ip_address_id") REFERENCES "ip_addresses" ("id");

ALTER TABLE "ip_addresses" ADD FOREIGN KEY ("geoip_info_id") REFERENCES "geoip_infos" ("id");

ALTER TABLE "linksets" ADD FOREIGN KEY ("rubygem_id") REFERENCES "rubygems" ("id");

ALTER TABLE "memberships" ADD FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id");

ALTER TABLE "oidc_api_key_roles" ADD FOREIGN KEY ("oidc_provider_id") REFERENCES "oidc_providers" ("id");

ALTER TABLE "oidc_id_tokens" ADD FOREIGN KEY ("api_key_id") REFERENCES "api_keys" ("id");

ALTER TABLE "oidc_id_tokens" ADD FOREIGN KEY ("oidc_api_key_role_id") REFERENCES "oidc_api_key_roles" ("id");

ALTER TABLE "organization_onboarding_invites" ADD FOREIGN KEY ("organization_onboarding_id") REFERENCES "organization_onboardings" ("id");

ALTER TABLE "ownership_requests" ADD FOREIGN KEY ("ownership_call_id") REFERENCES "ownership_calls" ("id");

ALTER TABLE "ownership_requests" ADD FOREIGN KEY ("approver_id") REFERENCES "users" ("id");

ALTER TABLE "ownerships" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "rubygem_transfers" ADD FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id");

ALTER TABLE "rubygems" ADD FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id");

ALTER TABLE "versions" ADD FOREIGN KEY ("pusher_api_key_id") REFERENCES "api_keys" ("id");

ALTER TABLE "versions" ADD FOREIGN KEY ("rubygem_id") REFERENCES "rubygems" ("id");

ALTER TABLE "web_hooks" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");
