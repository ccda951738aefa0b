CREATE TABLE "transfers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"call_id" uuid NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"bridged_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"outcome" text,
	"target_kind" text NOT NULL,
	"target_name" text NOT NULL,
	"agent_extension" text,
	"reason" text NOT NULL,
	"summary" text,
	"intent" text,
	"urgency" text DEFAULT 'normal' NOT NULL,
	"caller_number" text,
	"transcript" text,
	"duration_ms" integer,
	CONSTRAINT "transfers_outcome_check" CHECK ("transfers"."outcome" is null or "transfers"."outcome" in ('bridged', 'no_answer', 'failed', 'cancelled')),
	CONSTRAINT "transfers_urgency_check" CHECK ("transfers"."urgency" in ('normal', 'urgent', 'emergency'))
);
--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_call_id_calls_id_fk" FOREIGN KEY ("call_id") REFERENCES "public"."calls"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "transfers_call_id_requested_at_idx" ON "transfers" USING btree ("call_id","requested_at" DESC NULLS LAST);