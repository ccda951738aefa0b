CREATE TABLE "do_not_call" (
	"number" text PRIMARY KEY NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reason" text
);
--> statement-breakpoint
CREATE TABLE "outbound_calls" (
	"id" uuid PRIMARY KEY NOT NULL,
	"to_number" text NOT NULL,
	"purpose" text NOT NULL,
	"context" text,
	"not_before" timestamp with time zone,
	"not_after" timestamp with time zone,
	"time_zone" text NOT NULL,
	"status" text NOT NULL,
	"scheduled_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"call_id" uuid,
	"result" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbound_calls_status_check" CHECK ("outbound_calls"."status" in ('scheduled', 'placing', 'answered', 'machine', 'no_answer', 'failed', 'refused', 'cancelled')),
	CONSTRAINT "outbound_calls_purpose_check" CHECK ("outbound_calls"."purpose" in ('appointment_reminder', 'follow_up', 'results_ready', 'reschedule'))
);
--> statement-breakpoint
CREATE INDEX "outbound_calls_due_idx" ON "outbound_calls" USING btree ("scheduled_at") WHERE "outbound_calls"."status" = 'scheduled';--> statement-breakpoint
CREATE INDEX "outbound_calls_last_attempt_at_idx" ON "outbound_calls" USING btree ("last_attempt_at");