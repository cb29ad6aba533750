"""Knowledge bases: data buckets, vector stores, knowledge bases and their ingestion."""
