-- CreateTable
CREATE TABLE "patient_event" (
    "id" TEXT NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "type" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "detected_at" TIMESTAMPTZ(3) NOT NULL,
    "abnormal" BOOLEAN,

    CONSTRAINT "patient_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "patient_event_record" (
    "event_id" TEXT NOT NULL,
    "source_id" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "resource_id" TEXT NOT NULL,
    "source_patient_id" TEXT NOT NULL,
    "version_id" TEXT,
    "body" JSONB NOT NULL,
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "patient_event_record_pkey" PRIMARY KEY ("event_id","source_id","resource_type","resource_id")
);

-- CreateTable
CREATE TABLE "event_cursor" (
    "source_id" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "since" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "event_cursor_pkey" PRIMARY KEY ("source_id","resource_type")
);

-- CreateTable
CREATE TABLE "event_resource_state" (
    "source_id" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "resource_id" TEXT NOT NULL,
    "version_id" TEXT,
    "last_updated" TIMESTAMPTZ(3),
    "status" TEXT,

    CONSTRAINT "event_resource_state_pkey" PRIMARY KEY ("source_id","resource_type","resource_id")
);

-- CreateTable
CREATE TABLE "event_poller_lease" (
    "source_id" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "event_poller_lease_pkey" PRIMARY KEY ("source_id")
);

-- CreateTable
CREATE TABLE "event_source_subscription" (
    "source_id" TEXT NOT NULL,
    "subscription_id" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "event_source_subscription_pkey" PRIMARY KEY ("source_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "patient_event_seq_key" ON "patient_event"("seq");

-- CreateIndex
CREATE INDEX "patient_event_occurred_at_idx" ON "patient_event"("occurred_at");

-- CreateIndex
CREATE INDEX "patient_event_record_source_id_source_patient_id_idx" ON "patient_event_record"("source_id", "source_patient_id");

-- AddForeignKey
ALTER TABLE "patient_event_record" ADD CONSTRAINT "patient_event_record_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "patient_event"("id") ON DELETE CASCADE ON UPDATE CASCADE;

