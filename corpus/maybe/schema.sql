-- Maybe (personal finance app)
-- source: https://github.com/maybe-finance/maybe (db/schema.rb at commit 77b5469832758d1cbee1a940f3012a1ae1c74cd3)
-- licence: AGPL-3.0
-- converted from Rails schema.rb by corpus/tools/schema_rb_to_sql.py (tables, keys, unique columns, foreign keys)
-- Part of the pullprod detector corpus: only the schema (no data); see corpus/README.md.

CREATE TABLE "accounts" (
    "id" uuid NOT NULL,
    "subtype" character varying,
    "family_id" uuid NOT NULL,
    "name" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "accountable_type" character varying,
    "accountable_id" uuid,
    "balance" numeric(19,4),
    "currency" character varying,
    "import_id" uuid,
    "plaid_account_id" uuid,
    "cash_balance" numeric(19,4),
    "locked_attributes" jsonb,
    "status" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "active_storage_attachments" (
    "id" uuid NOT NULL,
    "name" character varying NOT NULL,
    "record_type" character varying NOT NULL,
    "record_id" uuid NOT NULL,
    "blob_id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "active_storage_blobs" (
    "id" uuid NOT NULL,
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
    "id" uuid NOT NULL,
    "blob_id" uuid NOT NULL,
    "variation_digest" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "addresses" (
    "id" uuid NOT NULL,
    "addressable_type" character varying,
    "addressable_id" uuid,
    "line1" character varying,
    "line2" character varying,
    "county" character varying,
    "locality" character varying,
    "region" character varying,
    "country" character varying,
    "postal_code" integer,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "api_keys" (
    "id" uuid NOT NULL,
    "name" character varying,
    "user_id" uuid NOT NULL,
    "scopes" json,
    "last_used_at" timestamp without time zone,
    "expires_at" timestamp without time zone,
    "revoked_at" timestamp without time zone,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "display_key" character varying NOT NULL,
    "source" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "balances" (
    "id" uuid NOT NULL,
    "account_id" uuid NOT NULL,
    "date" date NOT NULL,
    "balance" numeric(19,4) NOT NULL,
    "currency" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "cash_balance" numeric(19,4),
    "start_cash_balance" numeric(19,4) NOT NULL,
    "start_non_cash_balance" numeric(19,4) NOT NULL,
    "cash_inflows" numeric(19,4) NOT NULL,
    "cash_outflows" numeric(19,4) NOT NULL,
    "non_cash_inflows" numeric(19,4) NOT NULL,
    "non_cash_outflows" numeric(19,4) NOT NULL,
    "net_market_flows" numeric(19,4) NOT NULL,
    "cash_adjustments" numeric(19,4) NOT NULL,
    "non_cash_adjustments" numeric(19,4) NOT NULL,
    "flows_factor" integer NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "budget_categories" (
    "id" uuid NOT NULL,
    "budget_id" uuid NOT NULL,
    "category_id" uuid NOT NULL,
    "budgeted_spending" numeric(19,4) NOT NULL,
    "currency" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "budgets" (
    "id" uuid NOT NULL,
    "family_id" uuid NOT NULL,
    "start_date" date NOT NULL,
    "end_date" date NOT NULL,
    "budgeted_spending" numeric(19,4),
    "expected_income" numeric(19,4),
    "currency" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "categories" (
    "id" uuid NOT NULL,
    "name" character varying NOT NULL,
    "color" character varying NOT NULL,
    "family_id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "parent_id" uuid,
    "classification" character varying NOT NULL,
    "lucide_icon" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "chats" (
    "id" uuid NOT NULL,
    "user_id" uuid NOT NULL,
    "title" character varying NOT NULL,
    "instructions" character varying,
    "error" jsonb,
    "latest_assistant_response_id" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "credit_cards" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "available_credit" numeric(10,2),
    "minimum_payment" numeric(10,2),
    "apr" numeric(10,2),
    "expiration_date" date,
    "annual_fee" numeric(10,2),
    "locked_attributes" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "cryptos" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "locked_attributes" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "data_enrichments" (
    "id" uuid NOT NULL,
    "enrichable_type" character varying NOT NULL,
    "enrichable_id" uuid NOT NULL,
    "source" character varying,
    "attribute_name" character varying,
    "value" jsonb,
    "metadata" jsonb,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "depositories" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "locked_attributes" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "entries" (
    "id" uuid NOT NULL,
    "account_id" uuid NOT NULL,
    "entryable_type" character varying,
    "entryable_id" uuid,
    "amount" numeric(19,4) NOT NULL,
    "currency" character varying,
    "date" date,
    "name" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "import_id" uuid,
    "notes" text,
    "excluded" boolean,
    "plaid_id" character varying,
    "locked_attributes" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "exchange_rates" (
    "id" uuid NOT NULL,
    "from_currency" character varying NOT NULL,
    "to_currency" character varying NOT NULL,
    "rate" numeric NOT NULL,
    "date" date NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "families" (
    "id" uuid NOT NULL,
    "name" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "currency" character varying,
    "locale" character varying,
    "stripe_customer_id" character varying,
    "date_format" character varying,
    "country" character varying,
    "timezone" character varying,
    "data_enrichment_enabled" boolean,
    "early_access" boolean,
    "auto_sync_on_login" boolean NOT NULL,
    "latest_sync_activity_at" timestamp without time zone,
    "latest_sync_completed_at" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "family_exports" (
    "id" uuid NOT NULL,
    "family_id" uuid NOT NULL,
    "status" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "holdings" (
    "id" uuid NOT NULL,
    "account_id" uuid NOT NULL,
    "security_id" uuid NOT NULL,
    "date" date NOT NULL,
    "qty" numeric(19,4) NOT NULL,
    "price" numeric(19,4) NOT NULL,
    "amount" numeric(19,4) NOT NULL,
    "currency" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "impersonation_session_logs" (
    "id" uuid NOT NULL,
    "impersonation_session_id" uuid NOT NULL,
    "controller" character varying,
    "action" character varying,
    "path" text,
    "method" character varying,
    "ip_address" character varying,
    "user_agent" text,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "impersonation_sessions" (
    "id" uuid NOT NULL,
    "impersonator_id" uuid NOT NULL,
    "impersonated_id" uuid NOT NULL,
    "status" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "import_mappings" (
    "id" uuid NOT NULL,
    "type" character varying NOT NULL,
    "key" character varying,
    "value" character varying,
    "create_when_empty" boolean,
    "import_id" uuid NOT NULL,
    "mappable_type" character varying,
    "mappable_id" uuid,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "import_rows" (
    "id" uuid NOT NULL,
    "import_id" uuid NOT NULL,
    "account" character varying,
    "date" character varying,
    "qty" character varying,
    "ticker" character varying,
    "price" character varying,
    "amount" character varying,
    "currency" character varying,
    "name" character varying,
    "category" character varying,
    "tags" character varying,
    "entity_type" character varying,
    "notes" text,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "exchange_operating_mic" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "imports" (
    "id" uuid NOT NULL,
    "column_mappings" jsonb,
    "status" character varying,
    "raw_file_str" character varying,
    "normalized_csv_str" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "col_sep" character varying,
    "family_id" uuid NOT NULL,
    "account_id" uuid,
    "type" character varying NOT NULL,
    "date_col_label" character varying,
    "amount_col_label" character varying,
    "name_col_label" character varying,
    "category_col_label" character varying,
    "tags_col_label" character varying,
    "account_col_label" character varying,
    "qty_col_label" character varying,
    "ticker_col_label" character varying,
    "price_col_label" character varying,
    "entity_type_col_label" character varying,
    "notes_col_label" character varying,
    "currency_col_label" character varying,
    "date_format" character varying,
    "signage_convention" character varying,
    "error" character varying,
    "number_format" character varying,
    "exchange_operating_mic_col_label" character varying,
    "amount_type_strategy" character varying,
    "amount_type_inflow_value" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "investments" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "locked_attributes" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "invitations" (
    "id" uuid NOT NULL,
    "email" character varying,
    "role" character varying,
    "token" character varying,
    "family_id" uuid NOT NULL,
    "inviter_id" uuid NOT NULL,
    "accepted_at" timestamp without time zone,
    "expires_at" timestamp without time zone,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "invite_codes" (
    "id" uuid NOT NULL,
    "token" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "loans" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "rate_type" character varying,
    "interest_rate" numeric(10,3),
    "term_months" integer,
    "initial_balance" numeric(19,4),
    "locked_attributes" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "merchants" (
    "id" uuid NOT NULL,
    "name" character varying NOT NULL,
    "color" character varying,
    "family_id" uuid,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "logo_url" character varying,
    "website_url" character varying,
    "type" character varying NOT NULL,
    "source" character varying,
    "provider_merchant_id" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "messages" (
    "id" uuid NOT NULL,
    "chat_id" uuid NOT NULL,
    "type" character varying NOT NULL,
    "status" character varying NOT NULL,
    "content" text,
    "ai_model" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "debug" boolean,
    "provider_id" character varying,
    "reasoning" boolean,
    PRIMARY KEY ("id")
);

CREATE TABLE "mobile_devices" (
    "id" uuid NOT NULL,
    "user_id" uuid NOT NULL,
    "device_id" character varying,
    "device_name" character varying,
    "device_type" character varying,
    "os_version" character varying,
    "app_version" character varying,
    "last_seen_at" timestamp without time zone,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "oauth_application_id" integer,
    PRIMARY KEY ("id")
);

CREATE TABLE "oauth_access_grants" (
    "id" bigint NOT NULL,
    "resource_owner_id" character varying NOT NULL,
    "application_id" bigint NOT NULL,
    "token" character varying NOT NULL,
    "expires_in" integer NOT NULL,
    "redirect_uri" text NOT NULL,
    "scopes" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "revoked_at" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "oauth_access_tokens" (
    "id" bigint NOT NULL,
    "resource_owner_id" character varying,
    "application_id" bigint NOT NULL,
    "token" character varying NOT NULL,
    "refresh_token" character varying,
    "expires_in" integer,
    "scopes" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "revoked_at" timestamp without time zone,
    "previous_refresh_token" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "oauth_applications" (
    "id" bigint NOT NULL,
    "name" character varying NOT NULL,
    "uid" character varying NOT NULL,
    "secret" character varying NOT NULL,
    "redirect_uri" text NOT NULL,
    "scopes" character varying NOT NULL,
    "confidential" boolean NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "owner_id" uuid,
    "owner_type" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "other_assets" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "locked_attributes" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "other_liabilities" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "locked_attributes" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "plaid_accounts" (
    "id" uuid NOT NULL,
    "plaid_item_id" uuid NOT NULL,
    "plaid_id" character varying NOT NULL,
    "plaid_type" character varying NOT NULL,
    "plaid_subtype" character varying,
    "current_balance" numeric(19,4),
    "available_balance" numeric(19,4),
    "currency" character varying NOT NULL,
    "name" character varying NOT NULL,
    "mask" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "raw_payload" jsonb,
    "raw_transactions_payload" jsonb,
    "raw_investments_payload" jsonb,
    "raw_liabilities_payload" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "plaid_items" (
    "id" uuid NOT NULL,
    "family_id" uuid NOT NULL,
    "access_token" character varying,
    "plaid_id" character varying NOT NULL,
    "name" character varying,
    "next_cursor" character varying,
    "scheduled_for_deletion" boolean,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "available_products" character varying[],
    "billed_products" character varying[],
    "plaid_region" character varying NOT NULL,
    "institution_url" character varying,
    "institution_id" character varying,
    "institution_color" character varying,
    "status" character varying NOT NULL,
    "raw_payload" jsonb,
    "raw_institution_payload" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "properties" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "year_built" integer,
    "area_value" integer,
    "area_unit" character varying,
    "locked_attributes" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "rejected_transfers" (
    "id" uuid NOT NULL,
    "inflow_transaction_id" uuid NOT NULL,
    "outflow_transaction_id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "rule_actions" (
    "id" uuid NOT NULL,
    "rule_id" uuid NOT NULL,
    "action_type" character varying NOT NULL,
    "value" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "rule_conditions" (
    "id" uuid NOT NULL,
    "rule_id" uuid,
    "parent_id" uuid,
    "condition_type" character varying NOT NULL,
    "operator" character varying NOT NULL,
    "value" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "rules" (
    "id" uuid NOT NULL,
    "family_id" uuid NOT NULL,
    "resource_type" character varying NOT NULL,
    "effective_date" date,
    "active" boolean NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "name" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "securities" (
    "id" uuid NOT NULL,
    "ticker" character varying NOT NULL,
    "name" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "country_code" character varying,
    "exchange_mic" character varying,
    "exchange_acronym" character varying,
    "logo_url" character varying,
    "exchange_operating_mic" character varying,
    "offline" boolean NOT NULL,
    "failed_fetch_at" timestamp without time zone,
    "failed_fetch_count" integer NOT NULL,
    "last_health_check_at" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "security_prices" (
    "id" uuid NOT NULL,
    "date" date NOT NULL,
    "price" numeric(19,4) NOT NULL,
    "currency" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "security_id" uuid,
    PRIMARY KEY ("id")
);

CREATE TABLE "sessions" (
    "id" uuid NOT NULL,
    "user_id" uuid NOT NULL,
    "user_agent" character varying,
    "ip_address" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "active_impersonator_session_id" uuid,
    "subscribed_at" timestamp without time zone,
    "prev_transaction_page_params" jsonb,
    "data" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "settings" (
    "id" bigint NOT NULL,
    "var" character varying NOT NULL,
    "value" text,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "subscriptions" (
    "id" uuid NOT NULL,
    "family_id" uuid NOT NULL,
    "status" character varying NOT NULL,
    "stripe_id" character varying,
    "amount" numeric(19,4),
    "currency" character varying,
    "interval" character varying,
    "current_period_ends_at" timestamp without time zone,
    "trial_ends_at" timestamp without time zone,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "syncs" (
    "id" uuid NOT NULL,
    "syncable_type" character varying NOT NULL,
    "syncable_id" uuid NOT NULL,
    "status" character varying,
    "error" character varying,
    "data" jsonb,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "parent_id" uuid,
    "pending_at" timestamp without time zone,
    "syncing_at" timestamp without time zone,
    "completed_at" timestamp without time zone,
    "failed_at" timestamp without time zone,
    "window_start_date" date,
    "window_end_date" date,
    PRIMARY KEY ("id")
);

CREATE TABLE "taggings" (
    "id" uuid NOT NULL,
    "tag_id" uuid NOT NULL,
    "taggable_type" character varying,
    "taggable_id" uuid,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "tags" (
    "id" uuid NOT NULL,
    "name" character varying,
    "color" character varying NOT NULL,
    "family_id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "tool_calls" (
    "id" uuid NOT NULL,
    "message_id" uuid NOT NULL,
    "provider_id" character varying NOT NULL,
    "provider_call_id" character varying,
    "type" character varying NOT NULL,
    "function_name" character varying,
    "function_arguments" jsonb,
    "function_result" jsonb,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "trades" (
    "id" uuid NOT NULL,
    "security_id" uuid NOT NULL,
    "qty" numeric(19,4),
    "price" numeric(19,4),
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "currency" character varying,
    "locked_attributes" jsonb,
    PRIMARY KEY ("id")
);

CREATE TABLE "transactions" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "category_id" uuid,
    "merchant_id" uuid,
    "locked_attributes" jsonb,
    "kind" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "transfers" (
    "id" uuid NOT NULL,
    "inflow_transaction_id" uuid NOT NULL,
    "outflow_transaction_id" uuid NOT NULL,
    "status" character varying NOT NULL,
    "notes" text,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "users" (
    "id" uuid NOT NULL,
    "family_id" uuid NOT NULL,
    "first_name" character varying,
    "last_name" character varying,
    "email" character varying,
    "password_digest" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "role" character varying NOT NULL,
    "active" boolean NOT NULL,
    "onboarded_at" timestamp without time zone,
    "unconfirmed_email" character varying,
    "otp_secret" character varying,
    "otp_required" boolean NOT NULL,
    "otp_backup_codes" character varying[],
    "show_sidebar" boolean,
    "default_period" character varying NOT NULL,
    "last_viewed_chat_id" uuid,
    "show_ai_sidebar" boolean,
    "ai_enabled" boolean NOT NULL,
    "theme" character varying,
    "rule_prompts_disabled" boolean,
    "rule_prompt_dismissed_at" timestamp without time zone,
    "goals" text[],
    "set_onboarding_preferences_at" timestamp without time zone,
    "set_onboarding_goals_at" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "valuations" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "locked_attributes" jsonb,
    "kind" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "vehicles" (
    "id" uuid NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "year" integer,
    "mileage_value" integer,
    "mileage_unit" character varying,
    "make" character varying,
    "model" character varying,
    "locked_attributes" jsonb,
    PRIMARY KEY ("id")
);

ALTER TABLE "accounts" ADD FOREIGN KEY ("family_id") REFERENCES "families" ("id");

ALTER TABLE "accounts" ADD FOREIGN KEY ("import_id") REFERENCES "imports" ("id");

ALTER TABLE "accounts" ADD FOREIGN KEY ("plaid_account_id") REFERENCES "plaid_accounts" ("id");

ALTER TABLE "active_storage_attachments" ADD FOREIGN KEY ("blob_id") REFERENCES "active_storage_blobs" ("id");

ALTER TABLE "active_storage_variant_records" ADD FOREIGN KEY ("blob_id") REFERENCES "active_storage_blobs" ("id");

ALTER TABLE "api_keys" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "balances" ADD FOREIGN KEY ("account_id") REFERENCES "accounts" ("id");

ALTER TABLE "budget_categories" ADD FOREIGN KEY ("budget_id") REFERENCES "budgets" ("id");

ALTER TABLE "budget_categories" ADD FOREIGN KEY ("category_id") REFERENCES "categories" ("id");

ALTER TABLE "budgets" ADD FOREIGN KEY ("family_id") REFERENCES "families" ("id");

ALTER TABLE "categories" ADD FOREIGN KEY ("family_id") REFERENCES "families" ("id");

ALTER TABLE "chats" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "entries" ADD FOREIGN KEY ("account_id") REFERENCES "accounts" ("id");

ALTER TABLE "entries" ADD FOREIGN KEY ("import_id") REFERENCES "imports" ("id");

ALTER TABLE "family_exports" ADD FOREIGN KEY ("family_id") REFERENCES "families" ("id");

ALTER TABLE "holdings" ADD FOREIGN KEY ("account_id") REFERENCES "accounts" ("id");

ALTER TABLE "holdings" ADD FOREIGN KEY ("security_id") REFERENCES "securities" ("id");

ALTER TABLE "impersonation_session_logs" ADD FOREIGN KEY ("impersonation_session_id") REFERENCES "impersonation_sessions" ("id");

ALTER TABLE "impersonation_sessions" ADD FOREIGN KEY ("impersonated_id") REFERENCES "users" ("id");

ALTER TABLE "impersonation_sessions" ADD FOREIGN KEY ("impersonator_id") REFERENCES "users" ("id");

ALTER TABLE "import_rows" ADD FOREIGN KEY ("import_id") REFERENCES "imports" ("id");

ALTER TABLE "imports" ADD FOREIGN KEY ("family_id") REFERENCES "families" ("id");

ALTER TABLE "invitations" ADD FOREIGN KEY ("family_id") REFERENCES "families" ("id");

ALTER TABLE "invitations" ADD FOREIGN KEY ("inviter_id") REFERENCES "users" ("id");

ALTER TABLE "merchants" ADD FOREIGN KEY ("family_id") REFERENCES "families" ("id");

ALTER TABLE "messages" ADD FOREIGN KEY ("chat_id") REFERENCES "chats" ("id");

ALTER TABLE "mobile_devices" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "oauth_access_grants" ADD FOREIGN KEY ("application_id") REFERENCES "oauth_applications" ("id");

ALTER TABLE "oauth_access_tokens" ADD FOREIGN KEY ("application_id") REFERENCES "oauth_applications" ("id");

ALTER TABLE "plaid_accounts" ADD FOREIGN KEY ("plaid_item_id") REFERENCES "plaid_items" ("id");

ALTER TABLE "plaid_items" ADD FOREIGN KEY ("family_id") REFERENCES "families" ("id");

ALTER TABLE "rejected_transfers" ADD FOREIGN KEY ("inflow_transaction_id") REFERENCES "transactions" ("id");

ALTER TABLE "rejected_transfers" ADD FOREIGN KEY ("outflow_transaction_id") REFERENCES "transactions" ("id");

ALTER TABLE "rule_actions" ADD FOREIGN KEY ("rule_id") REFERENCES "rules" ("id");

ALTER TABLE "rule_conditions" ADD FOREIGN KEY ("parent_id") REFERENCES "rule_conditions" ("id");

ALTER TABLE "rule_conditions" ADD FOREIGN KEY ("rule_id") REFERENCES "rules" ("id");

ALTER TABLE "rules" ADD FOREIGN KEY ("family_id") REFERENCES "families" ("id");

ALTER TABLE "security_prices" ADD FOREIGN KEY ("security_id") REFERENCES "securities" ("id");

ALTER TABLE "sessions" ADD FOREIGN KEY ("active_impersonator_session_id") REFERENCES "impersonation_sessions" ("id");

ALTER TABLE "sessions" ADD FOREIGN KEY ("user_id") REFERENCES "users" ("id");

ALTER TABLE "subscriptions" ADD FOREIGN KEY ("family_id") REFERENCES "families" ("id");

ALTER TABLE "syncs" ADD FOREIGN KEY ("parent_id") REFERENCES "syncs" ("id");

ALTER TABLE "taggings" ADD FOREIGN KEY ("tag_id") REFERENCES "tags" ("id");

ALTER TABLE "tags" ADD FOREIGN KEY ("family_id") REFERENCES "families" ("id");

ALTER TABLE "tool_calls" ADD FOREIGN KEY ("message_id") REFERENCES "messages" ("id");

ALTER TABLE "trades" ADD FOREIGN KEY ("security_id") REFERENCES "securities" ("id");

ALTER TABLE "transactions" ADD FOREIGN KEY ("category_id") REFERENCES "categories" ("id");

ALTER TABLE "transactions" ADD FOREIGN KEY ("merchant_id") REFERENCES "merchants" ("id");

ALTER TABLE "transfers" ADD FOREIGN KEY ("inflow_transaction_id") REFERENCES "transactions" ("id");

ALTER TABLE "transfers" ADD FOREIGN KEY ("outflow_transaction_id") REFERENCES "transactions" ("id");

ALTER TABLE "users" ADD FOREIGN KEY ("last_viewed_chat_id") REFERENCES "chats" ("id");

ALTER TABLE "users" ADD FOREIGN KEY ("family_id") REFERENCES "families" ("id");
