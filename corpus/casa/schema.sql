-- CASA (court appointed special advocates case management), 26 of its 62 tables
-- source: https://github.com/rubyforgood/casa (db/schema.rb at commit 5ad2d6ae14d4561b59919dd983aff6b28e5a7735)
-- licence: MIT
-- converted from Rails schema.rb by corpus/tools/schema_rb_to_sql.py (tables, keys, unique columns, foreign keys)
-- Part of the pullprod detector corpus: only the schema (no data); see corpus/README.md.

CREATE TABLE "additional_expenses" (
    "id" bigint NOT NULL,
    "case_contact_id" bigint NOT NULL,
    "other_expense_amount" numeric,
    "other_expenses_describe" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "addresses" (
    "id" bigint NOT NULL,
    "content" character varying,
    "user_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "line_1" character varying,
    "line_2" character varying,
    "city" character varying,
    "state" character varying,
    "zip" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "all_casa_admins" (
    "id" bigint NOT NULL,
    "email" character varying NOT NULL,
    "encrypted_password" character varying NOT NULL,
    "reset_password_token" character varying,
    "reset_password_sent_at" timestamp without time zone,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "invitation_token" character varying,
    "invitation_created_at" timestamp without time zone,
    "invitation_sent_at" timestamp without time zone,
    "invitation_accepted_at" timestamp without time zone,
    "invitation_limit" integer,
    "invited_by_id" integer,
    "invited_by_type" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "api_credentials" (
    "id" bigint NOT NULL,
    "user_id" bigint NOT NULL,
    "token_expires_at" timestamp without time zone,
    "refresh_token_expires_at" timestamp without time zone,
    "api_token_digest" character varying,
    "refresh_token_digest" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "banners" (
    "id" bigint NOT NULL,
    "casa_org_id" bigint NOT NULL,
    "user_id" bigint NOT NULL,
    "name" character varying,
    "active" boolean,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "expires_at" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "casa_cases" (
    "id" bigint NOT NULL,
    "case_number" character varying NOT NULL,
    "transition_aged_youth" boolean,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "casa_org_id" bigint NOT NULL,
    "birth_month_year_youth" timestamp without time zone,
    "court_report_due_date" timestamp without time zone,
    "active" boolean NOT NULL,
    "court_report_submitted_at" timestamp without time zone,
    "court_report_status" integer,
    "slug" character varying,
    "date_in_care" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "casa_orgs" (
    "id" bigint NOT NULL,
    "name" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "display_name" character varying,
    "address" character varying,
    "footer_links" character varying[],
    "slug" character varying,
    "show_driving_reimbursement" boolean,
    "show_fund_request" boolean,
    "twilio_phone_number" character varying,
    "twilio_account_sid" character varying,
    "twilio_api_key_sid" character varying,
    "twilio_api_key_secret" character varying,
    "twilio_enabled" boolean,
    "additional_expenses_enabled" boolean,
    "learning_topic_active" boolean,
    "other_duties_enabled" boolean,
    PRIMARY KEY ("id")
);

CREATE TABLE "case_contacts" (
    "id" bigint NOT NULL,
    "creator_id" bigint NOT NULL,
    "casa_case_id" bigint,
    "duration_minutes" integer,
    "occurred_at" timestamp without time zone,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "contact_made" boolean,
    "medium_type" character varying,
    "miles_driven" integer NOT NULL,
    "want_driving_reimbursement" boolean,
    "notes" character varying,
    "deleted_at" timestamp without time zone,
    "reimbursement_complete" boolean,
    "status" character varying,
    "draft_case_ids" integer[],
    "volunteer_address" character varying,
    "metadata" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "case_court_orders" (
    "id" bigint NOT NULL,
    "casa_case_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "implementation_status" integer,
    "court_date_id" bigint,
    "text" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "contact_types" (
    "id" bigint NOT NULL,
    "contact_type_group_id" bigint NOT NULL,
    "name" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "active" boolean,
    PRIMARY KEY ("id")
);

CREATE TABLE "court_dates" (
    "id" bigint NOT NULL,
    "date" timestamp without time zone NOT NULL,
    "casa_case_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "hearing_type_id" bigint,
    "judge_id" bigint,
    "court_report_due_date" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "followups" (
    "id" bigint NOT NULL,
    "case_contact_id" bigint,
    "creator_id" bigint,
    "status" integer,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "note" text,
    "followupable_id" bigint,
    "followupable_type" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "fund_requests" (
    "id" bigint NOT NULL,
    "submitter_email" text,
    "youth_name" text,
    "payment_amount" text,
    "deadline" text,
    "request_purpose" text,
    "payee_name" text,
    "requested_by_and_relationship" text,
    "other_funding_source_sought" text,
    "impact" text,
    "extra_information" text,
    "timestamps" text,
    PRIMARY KEY ("id")
);

CREATE TABLE "healths" (
    "id" bigint NOT NULL,
    "latest_deploy_time" timestamp without time zone,
    "singleton_guard" integer,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "judges" (
    "id" bigint NOT NULL,
    "casa_org_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "active" boolean,
    "name" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "languages" (
    "id" bigint NOT NULL,
    "name" character varying,
    "casa_org_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "learning_hours" (
    "id" bigint NOT NULL,
    "user_id" bigint NOT NULL,
    "name" character varying NOT NULL,
    "duration_minutes" integer NOT NULL,
    "duration_hours" integer NOT NULL,
    "occurred_at" timestamp without time zone NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "learning_hour_type_id" bigint,
    "learning_hour_topic_id" bigint,
    PRIMARY KEY ("id")
);

CREATE TABLE "login_activities" (
    "id" bigint NOT NULL,
    "scope" character varying,
    "strategy" character varying,
    "identity" character varying,
    "success" boolean,
    "failure_reason" character varying,
    "user_type" character varying,
    "user_id" bigint,
    "context" character varying,
    "ip" character varying,
    "user_agent" text,
    "referrer" text,
    "city" character varying,
    "region" character varying,
    "country" character varying,
    "latitude" double precision,
    "longitude" double precision,
    "created_at" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "mileage_rates" (
    "id" bigint NOT NULL,
    "amount" numeric,
    "effective_date" date,
    "is_active" boolean,
    "user_id" bigint,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "casa_org_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "notes" (
    "id" bigint NOT NULL,
    "content" character varying,
    "creator_id" bigint,
    "notable_type" character varying,
    "notable_id" bigint,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "placements" (
    "id" bigint NOT NULL,
    "placement_started_at" timestamp without time zone NOT NULL,
    "placement_type_id" bigint NOT NULL,
    "creator_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "casa_case_id" bigint NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "sent_emails" (
    "id" bigint NOT NULL,
    "user_id" bigint,
    "casa_org_id" bigint NOT NULL,
    "mailer_type" character varying,
    "category" character varying,
    "sent_address" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "sms_notification_events" (
    "id" bigint NOT NULL,
    "name" character varying,
    "user_type" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "supervisor_volunteers" (
    "id" bigint NOT NULL,
    "supervisor_id" bigint NOT NULL,
    "volunteer_id" bigint NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "is_active" boolean,
    PRIMARY KEY ("id")
);

CREATE TABLE "user_languages" (
    "id" bigint NOT NULL,
    "user_id" bigint,
    "language_id" bigint,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "users" (
    "id" bigint NOT NULL,
    "email" character varying NOT NULL,
    "encrypted_password" character varying NOT NULL,
    "reset_password_token" character varying,
    "reset_password_sent_at" timestamp without time zone,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "casa_org_id" bigint NOT NULL,
    "display_name" character varying NOT NULL,
    "invitation_token" character varying,
    "invitation_created_at" timestamp without time zone,
    "invitation_sent_at" timestamp without time zone,
    "invitation_accepted_at" timestamp without time zone,
    "invitation_limit" integer,
    "invited_by_type" character varying,
    "invited_by_id" bigint,
    "invitations_count" integer,
    "type" character varying,
    "active" boolean,
    "sign_in_count" integer NOT NULL,
    "current_sign_in_at" timestamp without time zone,
    "last_sign_in_at" timestamp without time zone,
    "current_sign_in_ip" character varying,
    "last_sign_in_ip" character varying,
    "phone_number" character varying,
    "receive_sms_notifications" boolean NOT NULL,
    "receive_email_notifications" boolean,
    "confirmation_token" character varying,
    "confirmed_at" timestamp without time zone,
    "confirmation_sent_at" timestamp without time zone,
    "unconfirmed_email" character varying,
    "old_emails" character varying[],
    "receive_reimbursement_email" boolean,
    "monthly_learning_hours_report" boolean NOT NULL,
    "date_of_birth" timestamp without time zone,
    PRIMARY KEY ("id")
);

ALTER TABLE "additional_expenses" ADD FOREIGN KEY ("case_contact_id") REFERENCES "case_contacts" ("id");

ALTER TABLE "addresses" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "api_credentials" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "banners" ADD FOREIGN KEY ("casa_org_id") REFERENCES "casa_orgs" ("id");

ALTER TABLE "banners" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "casa_cases" ADD FOREIGN KEY ("casa_org_id") REFERENCES "casa_orgs" ("id");

ALTER TABLE "case_contacts" ADD FOREIGN KEY ("casa_case_id") REFERENCES "casa_cases" ("id");

ALTER TABLE "case_contacts" ADD FOREIGN KEY ("creator_id") REFERENCES "users" ("id");

ALTER TABLE "case_court_orders" ADD FOREIGN KEY ("casa_case_id") REFERENCES "casa_cases" ("id");

ALTER TABLE "court_dates" ADD FOREIGN KEY ("casa_case_id") REFERENCES "casa_cases" ("id");

ALTER TABLE "followups" ADD FOREIGN KEY ("creator_id") REFERENCES "users" ("id");

ALTER TABLE "judges" ADD FOREIGN KEY ("casa_org_id") REFERENCES "casa_orgs" ("id");

ALTER TABLE "languages" ADD FOREIGN KEY ("casa_org_id") REFERENCES "casa_orgs" ("id");

ALTER TABLE "learning_hours" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "mileage_rates" ADD FOREIGN KEY ("casa_org_id") REFERENCES "casa_orgs" ("id");

ALTER TABLE "mileage_rates" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "notes" ADD FOREIGN KEY ("creator_id") REFERENCES "users" ("id");

ALTER TABLE "placements" ADD FOREIGN KEY ("casa_case_id") REFERENCES "casa_cases" ("id");

ALTER TABLE "placements" ADD FOREIGN KEY ("creator_id") REFERENCES "users" ("id");

ALTER TABLE "sent_emails" ADD FOREIGN KEY ("casa_org_id") REFERENCES "casa_orgs" ("id");

ALTER TABLE "sent_emails" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "supervisor_volunteers" ADD FOREIGN KEY ("supervisor_id") REFERENCES "users" ("id");

ALTER TABLE "supervisor_volunteers" ADD FOREIGN KEY ("volunteer_id") REFERENCES "users" ("id");

ALTER TABLE "users" ADD FOREIGN KEY ("casa_org_id") REFERENCES "casa_orgs" ("id");
