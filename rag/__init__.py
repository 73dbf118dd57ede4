"""Retrieval-augmented generation: chunking, embedding, retrieval, generation, evaluation."""
