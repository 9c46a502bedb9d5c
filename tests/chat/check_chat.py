"""`tca ask --print-prompt` against the model's own chat template rendered by jinja2 (the engine
the template was written for), byte for byte, with and without a system prompt, for a question
about a document that contains special-token text and Jinja-looking braces.

usage: check_chat.py TCA_BIN MODEL...  (fetched model names or .gguf paths)
"""
import os
import subprocess
import sys
import tempfile

import jinja2
from gguf import GGUFReader

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'reference'))
from model_cache import model_path  # noqa: E402

DOC = 'Line one.\n  {{ not jinja }} and <|im_end|> inside the text.\n\nLast line.'
QUESTION = 'What is on the last line?'


def render(template, system):
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)  # as transformers renders chat templates
    messages = ([{'role': 'system', 'content': system}] if system else []) + \
        [{'role': 'user', 'content': DOC + '\n\n' + QUESTION}]
    return env.from_string(template).render(messages=messages, add_generation_prompt=True)


def main():
    tca, models = sys.argv[1], sys.argv[2:]
    failures = 0
    with tempfile.NamedTemporaryFile('w', suffix='.txt') as doc:
        doc.write(DOC)
        doc.flush()
        for path in map(model_path, models):
            template = GGUFReader(path).fields['tokenizer.chat_template'].contents()
            for system in (None, 'You answer in one word.'):
                cmd = [tca, 'ask', '-m', path, '--doc', doc.name, '--print-prompt', QUESTION]
                if system:
                    cmd[2:2] = ['--system', system]
                ours = subprocess.run(cmd, check=True, capture_output=True).stdout.decode()
                want = render(template, system)
                ok = ours == want
                failures += not ok
                print(f'{path} system={system!r}: {"identical" if ok else "DIFFERENT"}')
                if not ok:
                    print('--- ours\n' + ours + '\n--- jinja2\n' + want)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
