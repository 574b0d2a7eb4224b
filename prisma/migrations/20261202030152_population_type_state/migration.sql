-- CreateTable
CREATE TABLE "population_type" (
    "source_id" TEXT NOT NULL,
    "resource_type" TEXT NOT NULL,
    "current_to" TIMESTAMPTZ(3) NOT NULL,
    "changes" TEXT NOT NULL,

    CONSTRAINT "population_type_pkey" PRIMARY KEY ("source_id","resource_type")
);

