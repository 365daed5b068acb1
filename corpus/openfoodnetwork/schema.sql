-- Open Food Network (Spree-based food hub marketplace), 35 of its 93 tables
-- source: https://github.com/openfoodfoundation/openfoodnetwork (db/schema.rb at commit d4f0a99e2aec1a02b720baac2b341a2d4da86745)
-- licence: AGPL-3.0
-- converted from Rails schema.rb by corpus/tools/schema_rb_to_sql.py (tables, keys, unique columns, foreign keys)
-- Part of the pullprod detector corpus: only the schema (no data); see corpus/README.md.

CREATE TABLE "connected_apps" (
    "id" bigint NOT NULL,
    "enterprise_id" bigint,
    "data" json,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "type" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "customers" (
    "id" integer NOT NULL,
    "email" character varying(255) NOT NULL,
    "enterprise_id" integer NOT NULL,
    "code" character varying(255),
    "user_id" integer,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "bill_address_id" integer,
    "ship_address_id" integer,
    "name" character varying(255),
    "allow_charges" boolean NOT NULL,
    "terms_and_conditions_accepted_at" timestamp without time zone,
    "first_name" character varying NOT NULL,
    "last_name" character varying NOT NULL,
    "created_manually" boolean,
    PRIMARY KEY ("id")
);

CREATE TABLE "enterprise_groups" (
    "id" integer NOT NULL,
    "name" character varying(255),
    "on_front_page" boolean,
    "position" integer,
    "description" text,
    "long_description" text,
    "address_id" integer,
    "email" character varying(255) NOT NULL,
    "website" character varying(255) NOT NULL,
    "facebook" character varying(255) NOT NULL,
    "instagram" character varying(255) NOT NULL,
    "linkedin" character varying(255) NOT NULL,
    "twitter" character varying(255) NOT NULL,
    "owner_id" integer,
    "permalink" character varying(255) NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "enterprises" (
    "id" integer NOT NULL,
    "name" character varying(255),
    "description" text,
    "long_description" text,
    "is_primary_producer" boolean,
    "contact_name" character varying(255),
    "phone" character varying(255),
    "website" character varying(255),
    "twitter" character varying(255),
    "abn" character varying(255),
    "acn" character varying(255),
    "address_id" integer,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "facebook" character varying(255),
    "instagram" character varying(255),
    "linkedin" character varying(255),
    "owner_id" integer NOT NULL,
    "sells" character varying(255) NOT NULL,
    "producer_profile_only" boolean,
    "permalink" character varying(255) NOT NULL,
    "charges_sales_tax" boolean NOT NULL,
    "email_address" character varying(255),
    "require_login" boolean NOT NULL,
    "allow_guest_orders" boolean NOT NULL,
    "invoice_text" text,
    "display_invoice_logo" boolean,
    "allow_order_changes" boolean NOT NULL,
    "enable_subscriptions" boolean NOT NULL,
    "business_address_id" integer,
    "show_customer_names_to_suppliers" boolean NOT NULL,
    "visible" character varying NOT NULL,
    "whatsapp_phone" character varying(255),
    "hide_ofn_navigation" boolean NOT NULL,
    "white_label_logo_link" text,
    "hide_groups_tab" boolean,
    "external_billing_id" character varying(128),
    "enable_producers_to_edit_orders" boolean NOT NULL,
    "show_customer_contacts_to_suppliers" boolean NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "invoices" (
    "id" bigint NOT NULL,
    "order_id" bigint,
    "number" integer,
    "data" jsonb,
    "date" date,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "cancelled" boolean NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "oidc_accounts" (
    "id" bigint NOT NULL,
    "user_id" bigint NOT NULL,
    "provider" character varying,
    "uid" character varying NOT NULL,
    "token" character varying,
    "refresh_token" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "order_cycles" (
    "id" integer NOT NULL,
    "name" character varying(255) NOT NULL,
    "orders_open_at" timestamp without time zone,
    "orders_close_at" timestamp without time zone,
    "coordinator_id" integer NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "processed_at" timestamp without time zone,
    "automatic_notifications" boolean,
    "mails_sent" boolean,
    "opened_at" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "schedules" (
    "id" integer NOT NULL,
    "name" character varying(255) NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "sessions" (
    "id" integer NOT NULL,
    "session_id" character varying(255) NOT NULL,
    "data" text,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_addresses" (
    "id" integer NOT NULL,
    "firstname" character varying(255),
    "lastname" character varying(255),
    "address1" character varying(255) NOT NULL,
    "address2" character varying(255),
    "city" character varying(255) NOT NULL,
    "zipcode" character varying(255),
    "phone" character varying(255) NOT NULL,
    "state_name" character varying(255),
    "alternative_phone" character varying(255),
    "state_id" integer,
    "country_id" integer NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "company" character varying(255),
    "latitude" double precision,
    "longitude" double precision,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_countries" (
    "id" integer NOT NULL,
    "iso_name" character varying(255),
    "iso" character varying(255),
    "iso3" character varying(255),
    "name" character varying(255),
    "numcode" integer,
    "states_required" boolean,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_credit_cards" (
    "id" integer NOT NULL,
    "month" character varying(255),
    "year" character varying(255),
    "cc_type" character varying(255),
    "last_digits" character varying(255),
    "first_name" character varying(255),
    "last_name" character varying(255),
    "start_month" character varying(255),
    "start_year" character varying(255),
    "issue_number" character varying(255),
    "address_id" integer,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "gateway_customer_profile_id" character varying(255),
    "gateway_payment_profile_id" character varying(255),
    "user_id" integer,
    "payment_method_id" integer,
    "is_default" boolean,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_gateways" (
    "id" integer NOT NULL,
    "type" character varying(255),
    "name" character varying(255),
    "description" text,
    "active" boolean,
    "environment" character varying(255),
    "server" character varying(255),
    "test_mode" boolean,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_line_items" (
    "id" integer NOT NULL,
    "order_id" integer NOT NULL,
    "variant_id" integer NOT NULL,
    "quantity" integer NOT NULL,
    "price" numeric(10,2) NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "max_quantity" integer,
    "currency" character varying(255),
    "distribution_fee" numeric(10,2),
    "final_weight_volume" numeric(10,2),
    "tax_category_id" integer,
    "weight" numeric(8,2),
    "height" numeric(8,2),
    "width" numeric(8,2),
    "depth" numeric(8,2),
    "unit_presentation" character varying,
    "product_name" character varying,
    "variant_name" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_log_entries" (
    "id" integer NOT NULL,
    "source_id" integer,
    "source_type" character varying(255),
    "details" text,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_orders" (
    "id" integer NOT NULL,
    "number" character varying(15),
    "item_total" numeric(10,2) NOT NULL,
    "total" numeric(10,2) NOT NULL,
    "state" character varying(255),
    "adjustment_total" numeric(10,2) NOT NULL,
    "user_id" integer,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "completed_at" timestamp without time zone,
    "bill_address_id" integer,
    "ship_address_id" integer,
    "payment_total" numeric(10,2),
    "shipment_state" character varying(255),
    "payment_state" character varying(255),
    "email" character varying(255),
    "special_instructions" text,
    "distributor_id" integer,
    "order_cycle_id" integer,
    "currency" character varying(255),
    "last_ip_address" character varying(255),
    "customer_id" integer,
    "created_by_id" integer,
    "included_tax_total" numeric(10,2) NOT NULL,
    "additional_tax_total" numeric(10,2) NOT NULL,
    "note" character varying NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_payment_methods" (
    "id" integer NOT NULL,
    "type" character varying(255),
    "name" character varying(255),
    "description" text,
    "active" boolean,
    "environment" character varying(255),
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "deleted_at" timestamp without time zone,
    "display_on" character varying(255),
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_payments" (
    "id" integer NOT NULL,
    "amount" numeric(10,2) NOT NULL,
    "order_id" integer,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "source_id" integer,
    "source_type" character varying(255),
    "payment_method_id" integer,
    "state" character varying(255),
    "response_code" character varying(255),
    "avs_response" character varying(255),
    "identifier" character varying(255),
    "cvv_response_code" character varying(255),
    "cvv_response_message" text,
    "captured_at" timestamp without time zone,
    "redirect_auth_url" character varying,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_paypal_accounts" (
    "id" integer NOT NULL,
    "email" character varying(255),
    "payer_id" character varying(255),
    "payer_country" character varying(255),
    "payer_status" character varying(255),
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_paypal_express_checkouts" (
    "id" integer NOT NULL,
    "token" character varying(255),
    "payer_id" character varying(255),
    "transaction_id" character varying(255),
    "state" character varying(255),
    "refund_transaction_id" character varying(255),
    "refunded_at" timestamp without time zone,
    "refund_type" character varying(255),
    "created_at" timestamp without time zone,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_preferences" (
    "id" integer NOT NULL,
    "value" text,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "key" character varying(255),
    "value_type" character varying(255),
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_products" (
    "id" integer NOT NULL,
    "name" character varying(255) NOT NULL,
    "description" text,
    "deleted_at" timestamp without time zone,
    "meta_keywords" character varying(255),
    "tax_category_id" integer,
    "shipping_category_id" integer,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "group_buy" boolean,
    "group_buy_unit_size" double precision,
    "notes" text,
    "inherits_properties" boolean NOT NULL,
    "sku" character varying(255) NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_roles" (
    "id" integer NOT NULL,
    "name" character varying(255),
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_roles_users" (
    "role_id" integer,
    "user_id" integer
);

CREATE TABLE "spree_shipments" (
    "id" integer NOT NULL,
    "tracking" character varying(255),
    "number" character varying(255),
    "cost" numeric(10,2) NOT NULL,
    "shipped_at" timestamp without time zone,
    "order_id" integer,
    "address_id" integer,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "state" character varying(255),
    "stock_location_id" integer,
    "included_tax_total" numeric(10,2) NOT NULL,
    "additional_tax_total" numeric(10,2) NOT NULL,
    "adjustment_total" numeric(10,2) NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_states" (
    "id" integer NOT NULL,
    "name" character varying(255),
    "abbr" character varying(255),
    "country_id" integer NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_tokenized_permissions" (
    "id" integer NOT NULL,
    "permissable_id" integer,
    "permissable_type" character varying(255),
    "token" character varying(255),
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_users" (
    "id" integer NOT NULL,
    "encrypted_password" character varying(255),
    "password_salt" character varying(255),
    "email" character varying(255),
    "remember_token" character varying(255),
    "persistence_token" character varying(255),
    "reset_password_token" character varying(255),
    "perishable_token" character varying(255),
    "sign_in_count" integer NOT NULL,
    "failed_attempts" integer NOT NULL,
    "last_request_at" timestamp without time zone,
    "current_sign_in_at" timestamp without time zone,
    "last_sign_in_at" timestamp without time zone,
    "current_sign_in_ip" character varying(255),
    "last_sign_in_ip" character varying(255),
    "login" character varying(255),
    "ship_address_id" integer,
    "bill_address_id" integer,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "authentication_token" character varying(255),
    "unlock_token" character varying(255),
    "locked_at" timestamp without time zone,
    "remember_created_at" timestamp without time zone,
    "spree_api_key" character varying(48),
    "reset_password_sent_at" timestamp without time zone,
    "api_key" character varying(40),
    "enterprise_limit" integer NOT NULL,
    "locale" character varying(6),
    "confirmation_token" character varying(255),
    "confirmed_at" timestamp without time zone,
    "confirmation_sent_at" timestamp without time zone,
    "unconfirmed_email" character varying(255),
    "disabled_at" timestamp without time zone,
    "show_api_key_view" boolean NOT NULL,
    "provider" character varying,
    "uid" character varying,
    "terms_of_service_accepted_at" timestamp without time zone,
    "admin" boolean NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "spree_variants" (
    "id" integer NOT NULL,
    "sku" character varying(255) NOT NULL,
    "weight" numeric(8,2),
    "height" numeric(8,2),
    "width" numeric(8,2),
    "depth" numeric(8,2),
    "deleted_at" timestamp without time zone,
    "product_id" integer,
    "cost_currency" character varying(255),
    "unit_value" double precision,
    "unit_description" character varying(255),
    "display_name" character varying(255),
    "display_as" character varying(255),
    "import_date" timestamp without time zone,
    "variant_unit" character varying,
    "unit_presentation" character varying,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "tax_category_id" bigint,
    "shipping_category_id" bigint,
    "primary_taxon_id" bigint,
    "supplier_id" bigint,
    "variant_unit_scale" double precision,
    "variant_unit_name" character varying(255),
    "hub_id" bigint,
    "enterprise_id" bigint,
    PRIMARY KEY ("id")
);

CREATE TABLE "stripe_accounts" (
    "id" integer NOT NULL,
    "stripe_user_id" character varying(255),
    "stripe_publishable_key" character varying(255),
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "enterprise_id" integer,
    PRIMARY KEY ("id")
);

CREATE TABLE "terms_of_service_files" (
    "id" integer NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    PRIMARY KEY ("id")
);

CREATE TABLE "versions" (
    "id" integer NOT NULL,
    "item_type" character varying(255) NOT NULL,
    "item_id" integer NOT NULL,
    "event" character varying(255) NOT NULL,
    "whodunnit" character varying(255),
    "object" text,
    "created_at" timestamp without time zone,
    "custom_data" text,
    PRIMARY KEY ("id")
);

CREATE TABLE "vouchers" (
    "id" bigint NOT NULL,
    "code" character varying(255) NOT NULL,
    "expiry_date" timestamp without time zone,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "enterprise_id" bigint,
    "deleted_at" timestamp without time zone,
    "amount" numeric(10,2) NOT NULL,
    "type" character varying(255) NOT NULL,
    "external_voucher_id" uuid,
    "external_voucher_set_id" uuid,
    PRIMARY KEY ("id")
);

CREATE TABLE "webhook_endpoints" (
    "id" bigint NOT NULL,
    "url" character varying NOT NULL,
    "created_at" timestamp without time zone NOT NULL,
    "updated_at" timestamp without time zone NOT NULL,
    "user_id" bigint NOT NULL,
    "webhook_type" character varying(255) NOT NULL,
    PRIMARY KEY ("id")
);

ALTER TABLE "customers" ADD FOREIGN KEY ("enterprise_id") REFERENCES "enterprises" ("id");

ALTER TABLE "customers" ADD FOREIGN KEY ("bill_address_id") REFERENCES "spree_addresses" ("id");

ALTER TABLE "customers" ADD FOREIGN KEY ("ship_address_id") REFERENCES "spree_addresses" ("id");

ALTER TABLE "customers" ADD FOREIGN KEY ("user_id") REFERENCES "spree_users" ("id");

ALTER TABLE "enterprise_groups" ADD FOREIGN KEY ("address_id") REFERENCES "spree_addresses" ("id");

ALTER TABLE "enterprise_groups" ADD FOREIGN KEY ("owner_id") REFERENCES "spree_users" ("id");

ALTER TABLE "enterprises" ADD FOREIGN KEY ("address_id") REFERENCES "spree_addresses" ("id");

ALTER TABLE "enterprises" ADD FOREIGN KEY ("owner_id") REFERENCES "spree_users" ("id");

ALTER TABLE "order_cycles" ADD FOREIGN KEY ("coordinator_id") REFERENCES "enterprises" ("id");

ALTER TABLE "spree_addresses" ADD FOREIGN KEY ("country_id") REFERENCES "spree_countries" ("id");

ALTER TABLE "spree_addresses" ADD FOREIGN KEY ("state_id") REFERENCES "spree_states" ("id");

ALTER TABLE "spree_line_items" ADD FOREIGN KEY ("order_id") REFERENCES "spree_orders" ("id");

ALTER TABLE "spree_line_items" ADD FOREIGN KEY ("variant_id") REFERENCES "spree_variants" ("id");

ALTER TABLE "spree_orders" ADD FOREIGN KEY ("customer_id") REFERENCES "customers" ("id");

ALTER TABLE "spree_orders" ADD FOREIGN KEY ("distributor_id") REFERENCES "enterprises" ("id");

ALTER TABLE "spree_orders" ADD FOREIGN KEY ("order_cycle_id") REFERENCES "order_cycles" ("id");

ALTER TABLE "spree_orders" ADD FOREIGN KEY ("bill_address_id") REFERENCES "spree_addresses" ("id");

ALTER TABLE "spree_orders" ADD FOREIGN KEY ("ship_address_id") REFERENCES "spree_addresses" ("id");

ALTER TABLE "spree_orders" ADD FOREIGN KEY ("created_by_id") REFERENCES "spree_users" ("id");

ALTER TABLE "spree_orders" ADD FOREIGN KEY ("user_id") REFERENCES "spree_users" ("id");

ALTER TABLE "spree_payments" ADD FOREIGN KEY ("order_id") REFERENCES "spree_orders" ("id");

ALTER TABLE "spree_payments" ADD FOREIGN KEY ("payment_method_id") REFERENCES "spree_payment_methods" ("id");

ALTER TABLE "spree_roles_users" ADD FOREIGN KEY ("role_id") REFERENCES "spree_roles" ("id");

ALTER TABLE "spree_roles_users" ADD FOREIGN KEY ("user_id") REFERENCES "spree_users" ("id");

ALTER TABLE "spree_shipments" ADD FOREIGN KEY ("address_id") REFERENCES "spree_addresses" ("id");

ALTER TABLE "spree_shipments" ADD FOREIGN KEY ("order_id") REFERENCES "spree_orders" ("id");

ALTER TABLE "spree_states" ADD FOREIGN KEY ("country_id") REFERENCES "spree_countries" ("id");

ALTER TABLE "spree_users" ADD FOREIGN KEY ("bill_address_id") REFERENCES "spree_addresses" ("id");

ALTER TABLE "spree_users" ADD FOREIGN KEY ("ship_address_id") REFERENCES "spree_addresses" ("id");

ALTER TABLE "spree_variants" ADD FOREIGN KEY ("product_id") REFERENCES "spree_products" ("id");
