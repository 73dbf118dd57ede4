"""CUDA check of the production generation path: TransformersChatModel on a tiny random Llama, bf16.

No weights travel to the GPU machine: a small Llama-architecture model is initialised at random there
with the tokenizer (and chat template) of a fetched offline model, saved, and loaded through the same
``TransformersChatModel`` production uses (device auto -> cuda, dtype auto -> bfloat16).

    python3 bench/gpu_check.py --tokenizer data/models/smollm2-135m-instruct/safetensors
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.generator import TransformersChatModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", required=True, help="folder with tokenizer files and a chat template")
    parser.add_argument("--new-tokens", type=int, default=256)
    args = parser.parse_args()

    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    print(f"torch {torch.__version__}, cuda available: {torch.cuda.is_available()}")
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=1024, intermediate_size=4096, num_hidden_layers=16,
                         num_attention_heads=16, num_key_value_heads=4, max_position_embeddings=4096,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=None)
    with tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(0)
        LlamaForCausalLM(config).save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        generator = TransformersChatModel.create(tmp, device=None, dtype="auto", queue_size=8,
                                                 max_tokens=args.new_tokens, prompt_lookup_tokens=10)
        generator.load()
        _, model = generator.weights
        param = next(model.parameters())
        print(f"generator {generator.name}: device {param.device}, dtype {param.dtype}")
        messages = [("system", "Eres TuyaBot."), ("human", "¿Cuál es la tasa del CrediCompras Bajo Monto? " * 20)]
        generator.bind(max_tokens=16).invoke(messages)  # warm-up (kernels, allocator)
        for run in range(3):
            started = time.perf_counter()
            first = None
            pieces = []
            for chunk in generator.stream(messages):
                first = first or time.perf_counter() - started
                pieces.append(str(chunk.content))
            total = time.perf_counter() - started
            n = len(tokenizer("".join(pieces), add_special_tokens=False)["input_ids"])
            print(f"run {run}: {n} tokens in {total:.2f} s -> {n / total:.1f} tokens/s, "
                  f"first token {first * 1000:.0f} ms")


if __name__ == "__main__":
    main()
