-- CreateTable
CREATE TABLE "unified_patient" (
    "id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "unified_patient_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "patient_link" (
    "source_id" TEXT NOT NULL,
    "source_patient_id" TEXT NOT NULL,
    "unified_id" UUID NOT NULL,
    "method" TEXT NOT NULL,
    "score" DOUBLE PRECISION,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "patient_link_pkey" PRIMARY KEY ("source_id","source_patient_id")
);

-- CreateTable
CREATE TABLE "cached_resource" (
    "source_id" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "resource_id" TEXT NOT NULL,
    "source_patient_id" TEXT,
    "body" JSONB NOT NULL,
    "version_id" TEXT,
    "last_updated" TIMESTAMPTZ(3),
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "cached_resource_pkey" PRIMARY KEY ("source_id","resource_type","resource_id")
);

-- CreateTable
CREATE TABLE "cached_search" (
    "source_id" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "shape" TEXT NOT NULL,
    "source_patient_id" TEXT NOT NULL,
    "resource_ids" TEXT[],
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "cached_search_pkey" PRIMARY KEY ("source_id","resource_type","shape","source_patient_id")
);

-- CreateIndex
CREATE INDEX "patient_link_unified_id_idx" ON "patient_link"("unified_id");

-- CreateIndex
CREATE INDEX "cached_resource_source_id_resource_type_source_patient_id_idx" ON "cached_resource"("source_id", "resource_type", "source_patient_id");

-- AddForeignKey
ALTER TABLE "patient_link" ADD CONSTRAINT "patient_link_unified_id_fkey" FOREIGN KEY ("unified_id") REFERENCES "unified_patient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
