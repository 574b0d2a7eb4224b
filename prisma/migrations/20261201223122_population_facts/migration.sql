-- CreateTable
CREATE TABLE "clinical_fact" (
    "source_id" TEXT NOT NULL,
    "source_patient_id" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "resource_id" TEXT NOT NULL,
    "system" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "value" DOUBLE PRECISION,
    "unit" TEXT,
    "date" TIMESTAMPTZ(3),
    "status" TEXT,
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "clinical_fact_pkey" PRIMARY KEY ("source_id","resource_type","resource_id","system","code")
);

-- CreateTable
CREATE TABLE "population_source" (
    "source_id" TEXT NOT NULL,
    "synced_at" TIMESTAMPTZ(3) NOT NULL,
    "patients" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "population_source_pkey" PRIMARY KEY ("source_id")
);

-- CreateIndex
CREATE INDEX "clinical_fact_resource_type_code_system_idx" ON "clinical_fact"("resource_type", "code", "system");

-- CreateIndex
CREATE INDEX "clinical_fact_source_id_source_patient_id_resource_type_idx" ON "clinical_fact"("source_id", "source_patient_id", "resource_type");

