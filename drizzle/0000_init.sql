CREATE TABLE "assignments" (
	"id" serial PRIMARY KEY NOT NULL,
	"product_id" text NOT NULL,
	"email" text NOT NULL,
	"request_id" integer,
	"disabled_plans" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"via_group" text,
	"assigned_by" text NOT NULL,
	"assigned_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "request_people" (
	"id" serial PRIMARY KEY NOT NULL,
	"request_id" integer NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"is_requester" boolean DEFAULT false NOT NULL,
	"verdict" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"channel" text,
	"comment" text
);
--> statement-breakpoint
CREATE TABLE "requests" (
	"id" serial PRIMARY KEY NOT NULL,
	"product_id" text NOT NULL,
	"alternative_product_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"requester_email" text NOT NULL,
	"subject" text DEFAULT '' NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"source_message_id" integer
);
--> statement-breakpoint
CREATE TABLE "shares" (
	"id" serial PRIMARY KEY NOT NULL,
	"request_id" integer NOT NULL,
	"recipient_email" text NOT NULL,
	"token_hash" text NOT NULL,
	"subject" text,
	"message" text,
	"shared_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" serial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"channel" text NOT NULL,
	"action" text NOT NULL,
	"request_id" integer,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auto_replies" (
	"id" serial PRIMARY KEY NOT NULL,
	"recipient" text NOT NULL,
	"kind" text NOT NULL,
	"sent_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inbound_messages" (
	"id" serial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"mailbox" text,
	"uid_validity" bigint,
	"uid" bigint,
	"message_id" text,
	"raw_hash" text NOT NULL,
	"from_address" text,
	"subject" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"classification" text,
	"action" text,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"error" text,
	"request_id" integer,
	"processed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" serial PRIMARY KEY NOT NULL,
	"dedupe_key" text NOT NULL,
	"message_id" text NOT NULL,
	"kind" text NOT NULL,
	"request_id" integer,
	"to_address" text NOT NULL,
	"from_address" text NOT NULL,
	"reply_to" text,
	"in_reply_to" text,
	"subject" text NOT NULL,
	"html" text NOT NULL,
	"text" text NOT NULL,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secrets" jsonb,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "assignments" ADD CONSTRAINT "assignments_request_id_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."requests"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "request_people" ADD CONSTRAINT "request_people_request_id_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."requests"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shares" ADD CONSTRAINT "shares_request_id_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."requests"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "assignments_once" ON "assignments" USING btree ("product_id","email");--> statement-breakpoint
CREATE UNIQUE INDEX "request_people_once" ON "request_people" USING btree ("request_id","email");--> statement-breakpoint
CREATE UNIQUE INDEX "requests_one_pending_per_requester" ON "requests" USING btree ("requester_email","product_id") WHERE "requests"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "requests_source_message" ON "requests" USING btree ("source_message_id");--> statement-breakpoint
CREATE INDEX "requests_status_created" ON "requests" USING btree ("status","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "shares_token_hash" ON "shares" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "shares_request" ON "shares" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "audit_request" ON "audit_log" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "audit_at" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "auto_replies_recipient" ON "auto_replies" USING btree ("recipient","sent_at");--> statement-breakpoint
CREATE UNIQUE INDEX "inbound_raw_hash" ON "inbound_messages" USING btree ("raw_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "inbound_mailbox_uid" ON "inbound_messages" USING btree ("mailbox","uid_validity","uid") WHERE "inbound_messages"."uid" is not null;--> statement-breakpoint
CREATE INDEX "inbound_received" ON "inbound_messages" USING btree ("received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_dedupe" ON "outbox" USING btree ("dedupe_key");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_message_id" ON "outbox" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "outbox_due" ON "outbox" USING btree ("status","next_attempt_at");