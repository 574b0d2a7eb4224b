-- AlterTable
ALTER TABLE "source_patient" ADD COLUMN     "address_line" TEXT,
ADD COLUMN     "birth_year" INTEGER,
ADD COLUMN     "family_keys" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "family_sound" TEXT;

-- AlterTable
ALTER TABLE "unified_patient" ADD COLUMN     "merged_at" TIMESTAMPTZ(3),
ADD COLUMN     "merged_into" UUID;

-- CreateTable
CREATE TABLE "patient_merge" (
    "id" UUID NOT NULL,
    "survivor_id" UUID NOT NULL,
    "merged_id" UUID NOT NULL,
    "links" JSONB NOT NULL,
    "method" TEXT NOT NULL,
    "score" DOUBLE PRECISION,
    "evidence" JSONB,
    "merged_by" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "undone_at" TIMESTAMPTZ(3),
    "undone_by" TEXT,

    CONSTRAINT "patient_merge_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pending_source_check" (
    "unified_id" UUID NOT NULL,
    "source_id" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "since" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "pending_source_check_pkey" PRIMARY KEY ("unified_id","source_id")
);

-- CreateIndex
CREATE INDEX "patient_merge_survivor_id_idx" ON "patient_merge"("survivor_id");

-- CreateIndex
CREATE INDEX "patient_merge_merged_id_idx" ON "patient_merge"("merged_id");

-- CreateIndex
CREATE INDEX "pending_source_check_source_id_idx" ON "pending_source_check"("source_id");

-- CreateIndex
CREATE INDEX "source_patient_family_sound_birth_year_idx" ON "source_patient"("family_sound", "birth_year");

-- CreateIndex
CREATE INDEX "source_patient_phone_idx" ON "source_patient"("phone");

-- CreateIndex
CREATE INDEX "source_patient_identifiers_idx" ON "source_patient" USING GIN ("identifiers");

-- CreateIndex
CREATE INDEX "unified_patient_merged_into_idx" ON "unified_patient"("merged_into");

