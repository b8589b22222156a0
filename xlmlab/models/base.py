"""What every model class states about itself, so that loading, the runner and generation never
ask which family a model belongs to.

    architecture         its name in `config.json`'s `architectures` (XLMRobertaForMaskedLM ...)
    body                 the attribute that holds the bare transformer ("" for the bare model)
    head                 the task head a new task replaces (classifiers: "classifier", "summary")
    takes_langs          whether `forward` takes language ids (XLM) or refuses them (XLM-R, XLM-V)
    checkpoint_names()   module paths here -> module paths in the published checkpoints
    checkpoint_aliases   other names a parameter has had in published checkpoints
    optional_modules     modules a checkpoint may leave out (XLM-R's unused pooler)
"""

from __future__ import annotations

from typing import ClassVar

from torch import nn


class FamilyModel(nn.Module):
    architecture: ClassVar[str]
    body: ClassVar[str] = ""
    head: ClassVar[str | None] = None
    takes_langs: ClassVar[bool] = False
    checkpoint_aliases: ClassVar[dict[str, tuple[str, ...]]] = {}
    optional_modules: ClassVar[tuple[str, ...]] = ()

    def checkpoint_names(self) -> dict[str, str]:
        raise NotImplementedError

    @property
    def transformer_body(self) -> nn.Module:
        """The bare transformer (the model itself, or its `encoder` / `transformer`)."""
        return self.get_submodule(self.body) if self.body else self

    @property
    def input_embeddings(self) -> nn.Embedding:
        """The word embedding matrix (V, C), tied to the output layer of the LM heads."""
        return self.transformer_body.embeddings.word

    @property
    def lang2id(self) -> dict[str, int] | None:
        """Language code -> id for `langs`; None for a model without language embeddings."""
        return self.config.lang2id if self.takes_langs else None
