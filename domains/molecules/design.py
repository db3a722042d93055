"""Goal-directed design: steer a fitted prior toward an objective under an oracle budget.

REINVENT (Olivecrona et al. 2017; Blaschke et al. 2020): an *agent*, initialized as a
copy of the fitted autoregressive *prior*, samples a batch of molecules; each is scored
by the objective, and the agent is pulled toward the *augmented likelihood*

    log P_aug(A) = log P_prior(A) + sigma * S(A)

by minimizing ``(log P_aug(A) - log P_agent(A))^2``, a policy gradient that keeps the
agent close to the prior's chemistry while raising the score. Experience replay mixes
the best molecules seen so far into each update, and a diversity filter on Bemis–Murcko
scaffolds zeroes the score of a scaffold once ``bucket_size`` good molecules share it
(and of molecules already rewarded), so the agent keeps exploring instead of collapsing
onto one hit.

The budget counts *oracle calls*: one per distinct valid molecule scored. Repeats are
served from a cache, invalid molecules and molecules rejected by ``filters`` are never
sent to the oracle, and no call is made once the budget is spent.

References:
    Olivecrona, Blaschke, Engkvist & Chen, "Molecular de-novo design through deep
    reinforcement learning", J. Cheminform. 2017.
    Blaschke et al., "REINVENT 2.0: An AI Tool for De Novo Drug Design",
    J. Chem. Inf. Model. 2020 (diversity filters, experience replay).
    Gao et al., "Sample Efficiency Matters: A Benchmark for Practical Molecular
    Optimization" (PMO), NeurIPS 2022 (oracle budgets; REINVENT's tuned settings).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from synthkit.domains.molecules.chem import canonicalize, scaffold
from synthkit.domains.molecules.filters import get_filter
from synthkit.domains.molecules.objectives import get_objective
from synthkit.training.progress import progress_bar
from synthkit.training.runtime import seeded
from synthkit.validation import check_count, check_positive

DIVERSITY_FILTERS = (None, "scaffold")


def optimize(
    generator,
    objective,
    budget: int = 10_000,
    *,
    batch_size: int = 64,
    sigma: float = 120.0,
    learning_rate: float = 5e-4,
    replay_size: int = 100,
    replay_batch: int = 16,
    diversity_filter: str | None = "scaffold",
    bucket_size: int = 25,
    min_score: float = 0.4,
    filters=None,
    y=None,
    max_stalled_steps: int = 50,
    random_state=None,
    verbose: int = 1,
    return_agent: bool = False,
):
    """Improve a fitted :class:`MoleculeGenerator` toward ``objective`` with REINVENT.

    Args:
        generator: a fitted ``MoleculeGenerator`` with ``backbone="sequence"`` (the prior;
            it is not changed).
        objective: an :class:`~synthkit.domains.molecules.objectives.Objective`, a name
            such as ``"qed"`` (see ``list_objectives()``), a function of one SMILES, or a
            list of these (their MPO). Scores should lie in [0, 1].
        budget: maximum number of oracle calls (distinct valid molecules scored).
        batch_size: molecules sampled per agent update.
        sigma: weight of the score in the augmented likelihood.
        learning_rate: Adam step size of the agent.
        replay_size: best molecules kept for experience replay (0 disables it).
        replay_batch: replayed molecules added to each update.
        diversity_filter: ``"scaffold"`` (identical Bemis–Murcko scaffold buckets) or ``None``.
        bucket_size: good molecules allowed per scaffold before it scores 0.
        min_score: score from which a molecule counts as good for the diversity filter.
        filters: filters (names like ``"pains"``, ``Filter`` objects or a list) that a
            molecule must pass to be scored at all; failing ones score 0 without a call.
        y: condition for a conditional prior (a label or value used for every sample).
        max_stalled_steps: stop after this many updates in a row without a new oracle call
            (the agent only repeats itself).
        random_state: seed (same seed, same run on CPU).
        verbose: 0 silent; 1 progress bar (on a terminal).
        return_agent: also return the fine-tuned agent as a new ``MoleculeGenerator``.

    Returns:
        a ``pandas.DataFrame`` of every molecule the oracle scored, best first, with
        columns ``smiles``, ``score``, ``call`` (the oracle call that found it, 1-based),
        ``step`` and ``scaffold``; ``table.attrs`` holds run statistics. With
        ``return_agent`` a pair ``(table, agent)``.

    Example:
        >>> from synthkit.domains.molecules import MoleculeGenerator, load_dataset
        >>> prior = MoleculeGenerator(backbone_params={"hidden_dim": 32, "embedding_dim": 16,
        ...     "max_epochs": 1, "verbose": 0}, random_state=0).fit(load_dataset("nci")[:200])
        >>> table = optimize(prior, "qed", budget=50, batch_size=16, random_state=0, verbose=0)
        >>> table.attrs["oracle_calls"] <= 50
        True
    """
    check_is_fitted(generator, "backbone_")
    prior = generator.backbone_
    if not (hasattr(prior, "log_likelihood") and hasattr(prior, "sample_tokens")):
        raise ValueError(
            f"optimize needs an autoregressive prior (backbone='sequence'); this generator uses {generator.backbone!r}."
        )
    budget = check_count("budget", budget)
    batch_size = check_count("batch_size", batch_size)
    if diversity_filter not in DIVERSITY_FILTERS:
        raise ValueError(f"diversity_filter must be one of {DIVERSITY_FILTERS}, got {diversity_filter!r}.")
    check_positive("sigma", sigma)
    check_positive("learning_rate", learning_rate)
    oracle = get_objective(objective)
    gate = None if filters is None or (isinstance(filters, (list, tuple)) and not filters) else get_filter(filters)

    agent_gen = copy.deepcopy(generator)
    agent = agent_gen.backbone_
    prior.modules_.eval()
    agent.modules_.eval()  # no dropout: agent and prior likelihoods stay comparable
    device = agent._device()
    codec = generator.codec_
    # the prior's own decoding rules (SMILES grammar), so the agent wastes no draws on strings
    # the prior would never return; the loss below regresses sequence likelihoods and needs
    # no on-policy samples
    grammar = generator._sampling_grammar()
    params = [p for p in agent.modules_.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=learning_rate)

    def condition(n):
        """The condition tensor of ``n`` samples (``None`` for an unconditional prior)."""
        if generator.condition_ is None:
            generator._condition_rows(y, n)  # rejects a y the prior cannot use
            return None
        if y is None:
            raise ValueError(f"this prior is conditioned on {generator.condition_}; pass y (what to design for).")
        return agent._encode_condition(generator._condition_rows(y, n), n, fit=False).to(device)

    cache: dict[str, float] = {}  # smiles -> raw score (after filters), no repeat calls
    found: list[tuple[str, float, int, int, str]] = []
    good_smiles: set[str] = set()  # diversity-filter memory: molecules already rewarded
    buckets: dict[str, int] = {}
    memory: dict[str, tuple[float, np.ndarray]] = {}
    stats = {"oracle_calls": 0, "steps": 0, "sampled": 0, "invalid": 0, "filtered": 0, "repeats": 0}
    stalled = 0
    bar = progress_bar(total=budget, verbose=verbose, desc="REINVENT", unit="call")
    try:
        with seeded(random_state, device):
            c_batch = condition(batch_size)
            while stats["oracle_calls"] < budget and stalled < max_stalled_steps:
                stats["steps"] += 1
                tokens, _ = agent.sample_tokens(batch_size, c_batch, constraint=grammar)
                rows = tokens.cpu().numpy()
                smiles = canonicalize(codec.decode_smiles(rows), largest_fragment=generator.largest_fragment)
                use = np.ones(batch_size, dtype=bool)
                scores = np.zeros(batch_size)
                new: dict[str, list[int]] = {}
                in_batch: set[str] = set()
                for i, smi in enumerate(smiles):
                    if smi is None:
                        stats["invalid"] += 1
                        continue
                    if smi in in_batch:  # score each distinct sequence of a batch once
                        use[i] = False
                        continue
                    in_batch.add(smi)
                    if smi in cache:
                        stats["repeats"] += 1
                        scores[i] = cache[smi]
                    else:
                        new.setdefault(smi, []).append(i)
                # the oracle, within the budget
                todo = list(new)
                if gate is not None and todo:
                    passed = gate.passes(todo)
                    for smi in (s for s, ok in zip(todo, passed) if not ok):
                        cache[smi] = 0.0
                        stats["filtered"] += 1
                    todo = [s for s, ok in zip(todo, passed) if ok]
                room = budget - stats["oracle_calls"]
                for smi in todo[room:]:  # over budget: leave them out of the update
                    use[new.pop(smi)] = False
                todo = todo[:room]
                if todo:
                    values = np.asarray(oracle(todo), dtype=float).reshape(-1)
                    if len(values) != len(todo):
                        raise ValueError(f"objective returned {len(values)} scores for {len(todo)} molecules.")
                    values = np.where(np.isfinite(values), values, 0.0)
                    for smi, v in zip(todo, values):
                        stats["oracle_calls"] += 1
                        cache[smi] = float(v)
                        found.append((smi, float(v), stats["oracle_calls"], stats["steps"], scaffold(smi) or ""))
                    bar.update(len(todo))
                    stalled = 0
                else:
                    stalled += 1
                for smi, idx in new.items():
                    scores[idx] = cache[smi]
                stats["sampled"] += batch_size
                # diversity filter (REINVENT 2.0 "IdenticalMurckoScaffold")
                if diversity_filter == "scaffold":
                    for i, smi in enumerate(smiles):
                        if smi is None or not use[i] or scores[i] < min_score:
                            continue
                        if smi in good_smiles:  # already rewarded once: REINVENT scores repeats 0
                            scores[i] = 0.0
                            continue
                        sc = scaffold(smi) or ""
                        good_smiles.add(smi)
                        buckets[sc] = buckets.get(sc, 0) + 1
                        if buckets[sc] > bucket_size:
                            scores[i] = 0.0
                # experience replay memory: the best molecules with their sampled tokens
                if replay_size:
                    for i, smi in enumerate(smiles):
                        if smi is not None and use[i] and scores[i] > 0:
                            memory[smi] = (float(scores[i]), rows[i])
                    if len(memory) > replay_size:
                        keep = sorted(memory.items(), key=lambda kv: -kv[1][0])[:replay_size]
                        memory = dict(keep)
                loss = _reinvent_step(agent, prior, optimizer, tokens, scores, use, c_batch, sigma,
                                      memory, replay_batch, condition, device)
                if found:
                    best = sorted((f[1] for f in found), reverse=True)
                    bar.set_postfix({"best": f"{best[0]:.3f}", "top10": f"{np.mean(best[:10]):.3f}",
                                     "loss": f"{loss:.3g}"})
    finally:
        bar.close()
    table = _table(found)
    table.attrs.update(stats, budget=budget, objective=oracle.name, stopped_early=bool(stalled >= max_stalled_steps))
    agent.modules_.eval()
    return (table, agent_gen) if return_agent else table


def _reinvent_step(agent, prior, optimizer, tokens, scores, use, c_batch, sigma, memory, replay_batch,
                   condition, device) -> float:
    """One policy-gradient update on the batch (and replayed molecules)."""
    idx = torch.as_tensor(np.flatnonzero(use), device=device)
    if len(idx) == 0:
        return float("nan")
    seqs = tokens[idx]
    score = torch.as_tensor(scores[use], dtype=torch.float32, device=device)
    c = None if c_batch is None else c_batch[idx]
    if memory and replay_batch:
        items = list(memory.values())
        pick = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,)))).choice(
            len(items), min(replay_batch, len(items)), replace=False)
        width = max(seqs.shape[1], max(len(items[k][1]) for k in pick))
        extra = torch.zeros(len(pick), width, dtype=torch.long, device=device)
        for j, k in enumerate(pick):
            extra[j, : len(items[k][1])] = torch.as_tensor(items[k][1], device=device)
        if seqs.shape[1] < width:
            seqs = torch.nn.functional.pad(seqs, (0, width - seqs.shape[1]))
        seqs = torch.cat([seqs, extra])
        score = torch.cat([score, torch.as_tensor([items[k][0] for k in pick], dtype=torch.float32, device=device)])
        if c is not None:
            c = torch.cat([c, condition(len(pick))])
    with torch.no_grad():
        prior_ll = prior.log_likelihood(seqs, c)
    agent_ll = agent.log_likelihood(seqs, c)
    augmented = prior_ll + sigma * score
    loss = ((augmented - agent_ll) ** 2).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def _table(found) -> pd.DataFrame:
    table = pd.DataFrame(found, columns=["smiles", "score", "call", "step", "scaffold"])
    table = table.sort_values(["score", "call"], ascending=[False, True], kind="stable").reset_index(drop=True)
    table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
    return table


def top_k_mean(table: pd.DataFrame, k: int = 10) -> float:
    """Mean score of the best ``k`` molecules of an :func:`optimize` table."""
    return float(table["score"].head(k).mean()) if len(table) else math.nan
