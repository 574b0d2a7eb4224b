-- CreateTable
CREATE TABLE "source_patient" (
    "source_id" TEXT NOT NULL,
    "source_patient_id" TEXT NOT NULL,
    "family_key" TEXT,
    "given_keys" TEXT[],
    "birth_date" TEXT,
    "gender" TEXT,
    "postal_code" TEXT,
    "phone" TEXT,
    "identifiers" TEXT[],
    "last_updated" TIMESTAMPTZ(3),
    "indexed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "source_patient_pkey" PRIMARY KEY ("source_id","source_patient_id")
);

-- CreateTable
CREATE TABLE "possible_match" (
    "id" UUID NOT NULL,
    "unified_id" UUID NOT NULL,
    "candidate_source_id" TEXT NOT NULL,
    "candidate_source_patient_id" TEXT NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "evidence" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reviewed_at" TIMESTAMPTZ(3),
    "reviewed_by" TEXT,

    CONSTRAINT "possible_match_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_event" (
    "id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "request_id" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "purpose_of_use" TEXT,
    "action" TEXT NOT NULL,
    "patient_ids" TEXT[],
    "field_groups" TEXT[],
    "outcome" TEXT NOT NULL,
    "detail" JSONB,

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "eligibility_response" (
    "key" TEXT NOT NULL,
    "payer_id" TEXT NOT NULL,
    "response" JSONB NOT NULL,
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "eligibility_response_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "sync_state" (
    "source_id" TEXT NOT NULL,
    "cursor" TEXT,
    "since" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL,
    "indexed" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "sync_state_pkey" PRIMARY KEY ("source_id")
);

-- CreateIndex
CREATE INDEX "source_patient_family_key_birth_date_idx" ON "source_patient"("family_key", "birth_date");

-- CreateIndex
CREATE INDEX "source_patient_birth_date_idx" ON "source_patient"("birth_date");

-- CreateIndex
CREATE INDEX "possible_match_status_created_at_idx" ON "possible_match"("status", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "possible_match_unified_id_candidate_source_id_candidate_sou_key" ON "possible_match"("unified_id", "candidate_source_id", "candidate_source_patient_id");

-- CreateIndex
CREATE INDEX "audit_event_at_idx" ON "audit_event"("at");

-- CreateIndex
CREATE INDEX "audit_event_subject_at_idx" ON "audit_event"("subject", "at");

-- CreateIndex
CREATE INDEX "eligibility_response_payer_id_expires_at_idx" ON "eligibility_response"("payer_id", "expires_at");

