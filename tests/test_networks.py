"""Networks as arguments (synthkit.nn.networks): every backbone with a network argument
trains the user's network, passes the conformance suite with a registered one (so it
saves and loads), and refuses a network that does not fit its role with a clear error."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

import synthkit
from synthkit.backbones.diffusion import DDPM
from synthkit.backbones.ebm import EBM
from synthkit.backbones.flow import NormalizingFlow
from synthkit.backbones.gan import GAN
from synthkit.backbones.sequence import SequenceModel
from synthkit.backbones.vae import VAE
from synthkit.metrics.detection import c2st_auc
from synthkit.nn import build_network, list_networks, register_network
from synthkit.testing import GENERATOR_CHECKS


class Head(nn.Module):
    """A user's network: ``MLP([x, c])``; ``scalar`` squeezes a one-wide output (critic, energy)."""

    def __init__(self, in_features, out_features, condition_dim, width=16, scalar=False, **_):
        super().__init__()
        self.scalar = scalar
        self.net = nn.Sequential(nn.Linear(in_features + condition_dim, width), nn.SiLU(),
                                 nn.Linear(width, out_features))
        self.seen_conditions = None

    def forward(self, x, c=None):
        if c is not None:
            self.seen_conditions = tuple(c.shape)
        out = self.net(x if c is None else torch.cat([x, c], dim=1))
        return out.squeeze(1) if self.scalar else out


class Denoiser(nn.Module):
    """A user's denoiser ``f(x_t, t, c)`` with the step as an input feature."""

    def __init__(self, in_features, out_features, condition_dim, n_timesteps, width=32):
        super().__init__()
        self.n_timesteps = n_timesteps
        self.net = nn.Sequential(nn.Linear(in_features + 1 + condition_dim, width), nn.SiLU(),
                                 nn.Linear(width, width), nn.SiLU(), nn.Linear(width, out_features))

    def forward(self, x, t, c=None):
        assert t.shape == (len(x),), "the contract gives one step per row"
        h = torch.cat([x, t[:, None].float() / self.n_timesteps] + ([] if c is None else [c]), dim=1)
        return self.net(h)


class LSTMNetwork(nn.Module):
    """A user's sequence network: embedding, LSTM, head; ``c`` sets the initial cell state."""

    def __init__(self, in_features, out_features, condition_dim, vocab_size, max_positions, width=16):
        super().__init__()
        self.embedding = nn.Embedding(in_features, width)
        self.rnn = nn.LSTM(width, width, batch_first=True)
        self.head = nn.Linear(width, out_features)
        self.condition = nn.Linear(condition_dim, width) if condition_dim else None

    def forward(self, tokens, c=None, state=None):
        if state is None and self.condition is not None and c is not None:
            h0 = torch.tanh(self.condition(c))[None]
            state = (h0, torch.zeros_like(h0))
        out, state = self.rnn(self.embedding(tokens), state)
        return self.head(out), state


def _flow(in_features, condition_dim, **_):
    import zuko

    return zuko.flows.MAF(in_features, condition_dim, transforms=2, hidden_features=(16,))


register_network("critic", "test-head", lambda **kw: Head(**kw, scalar=True))
register_network("energy", "test-head", lambda **kw: Head(**kw, scalar=True))
for role in ("generator", "encoder", "decoder"):
    register_network(role, "test-head", Head)
register_network("denoiser", "test-denoiser", Denoiser)
register_network("flow", "test-maf", _flow)
register_network("sequence", "test-lstm", LSTMNetwork)

#: each backbone with a network argument, its arguments set to the registered user networks
WITH_NETWORKS = {
    "gan": lambda: GAN(generator_network="test-head", critic_network={"name": "test-head", "width": 24},
                       n_calibration_steps=50),
    "ebm": lambda: EBM(energy_network="test-head", buffer_size=500),
    "diffusion": lambda: DDPM(denoiser_network="test-denoiser", n_sampling_steps=10, n_score_timesteps=10),
    "vae": lambda: VAE(encoder_network="test-head", decoder_network="test-head"),
    "flow": lambda: NormalizingFlow(flow="test-maf"),
    "sequence": lambda: SequenceModel(cell="test-lstm"),
}


@pytest.mark.parametrize("check", GENERATOR_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(WITH_NETWORKS))
def test_backbones_with_registered_networks_pass_the_conformance_suite(name, check):
    check(WITH_NETWORKS[name]())


@pytest.mark.parametrize("name", sorted(WITH_NETWORKS))
def test_the_users_networks_are_the_ones_trained(name):
    est = WITH_NETWORKS[name]().set_params(max_epochs=1, verbose=0, random_state=0)
    X, y = est._conformance_data(np.random.default_rng(0)) if hasattr(est, "_conformance_data") else (
        np.random.default_rng(0).normal(size=(100, 3)), None)
    est.fit(X)
    built = {type(m) for m in est.modules_.values()}
    assert built & {Head, Denoiser, LSTMNetwork} or name == "flow", built
    if name == "flow":
        import zuko

        assert isinstance(est.modules_["flow"], zuko.flows.MAF)


def test_a_module_instance_is_copied_trained_and_refits_from_the_same_weights():
    torch.manual_seed(0)
    critic, generator = Head(2, 1, 0, width=32, scalar=True), Head(4, 2, 0, width=32)
    before = {k: v.clone() for k, v in critic.state_dict().items()}
    X = np.random.default_rng(0).normal(size=(300, 2)) * [1.0, 0.2]
    gan = GAN(critic_network=critic, generator_network=generator, latent_dim=4, max_epochs=3,
              n_calibration_steps=20, verbose=0, random_state=0)
    a = gan.fit(X).sample(50)
    assert all(torch.equal(v, critic.state_dict()[k]) for k, v in before.items()), "the argument was trained"
    assert isinstance(gan.modules_["critic"], Head) and gan.modules_["critic"] is not critic
    trained = gan.modules_["critic"].state_dict()
    assert any(not torch.equal(trained[k], v) for k, v in before.items()), "the copy was not trained"
    np.testing.assert_array_equal(a, gan.fit(X).sample(50))
    with pytest.raises(ValueError, match="critic_network of GAN holds a Head object, which cannot be saved as JSON"):
        gan.save("/tmp/never-written")


def test_a_users_denoiser_learns():
    """Two-sample AUC of a diffusion model with the user's denoiser drops far below its untrained self's."""
    rng = np.random.default_rng(0)
    angle = rng.uniform(0, 2 * np.pi, 1200)
    X = np.column_stack([np.cos(angle), np.sin(angle)]) * 2 + rng.normal(scale=0.1, size=(1200, 2))
    make = lambda epochs: DDPM(denoiser_network={"name": "test-denoiser", "width": 64}, max_epochs=epochs,
                               batch_size=128, n_sampling_steps=20, verbose=0, random_state=0)
    before = c2st_auc(X[1000:], make(1).fit(X[:1000]).sample(200), classifier="knn")
    after = c2st_auc(X[1000:], make(150).fit(X[:1000]).sample(200), classifier="knn")
    assert before > 0.75 and after < 0.65, (before, after)


def test_class_conditions_reach_the_users_networks():
    X = np.random.default_rng(0).normal(size=(90, 3))
    y = np.repeat(["a", "b", "c"], 30)
    gan = GAN(critic_network=Head(3, 1, 3, scalar=True), generator_network=Head(8, 3, 3), latent_dim=8,
              max_epochs=1, n_calibration_steps=5, verbose=0, random_state=0).fit(X, y)
    assert gan.modules_["critic"].seen_conditions[1] == 3 and gan.modules_["generator"].seen_conditions[1] == 3


def test_hinge_loss_spectrally_normalizes_a_given_critic():
    from torch.nn.utils import parametrize

    gan = GAN(loss="hinge", critic_network="test-head", max_epochs=1, verbose=0, random_state=0)
    gan.fit(np.random.default_rng(0).normal(size=(64, 2)))
    linears = [m for m in gan.modules_["critic"].modules() if isinstance(m, nn.Linear)]
    assert linears and all(parametrize.is_parametrized(m, "weight") for m in linears)


@pytest.mark.parametrize("est, match", [
    (GAN(critic_network=Head(2, 1, 0)), r"critic_network returned \(2, 1\) for 2 rows; expected one logit per row: shape \(2,\)"),
    (GAN(generator_network=Head(64, 3, 0)), r"generator_network returned \(2, 3\) .* shape \(2, 2\)"),
    (EBM(energy_network=Head(5, 1, 0, scalar=True)), r"energy_network failed on inputs of shapes \[\(2, 2\), None\]"),
    (DDPM(denoiser_network=lambda **kw: Head(2, 2, 0)), r"denoiser_network failed"),
    (VAE(encoder_network=Head(2, 3, 0), latent_dim=2), r"encoder_network returned \(2, 3\) .* shape \(2, 4\)"),
    (VAE(decoder_network="no-such-net"), r"decoder_network: no decoder network named 'no-such-net' is registered"),
    (NormalizingFlow(flow="no-such-flow"), r"flow must be one of .* or a registered flow network"),
])
def test_networks_that_do_not_fit_their_role_are_refused_by_name(est, match):
    with pytest.raises(ValueError, match=match):
        est.set_params(max_epochs=1, verbose=0).fit(np.random.default_rng(0).normal(size=(20, 2)))


def test_bad_specs_and_factories_are_refused():
    shapes = dict(in_features=2, out_features=1, condition_dim=0, projection=False)
    with pytest.raises(TypeError, match="critic_network must be None, a registered name"):
        build_network(3, "critic", "critic_network", **shapes)
    with pytest.raises(TypeError, match="returned int, not a torch.nn.Module"):
        build_network(lambda **kw: 3, "critic", "critic_network", **shapes)
    with pytest.raises(TypeError, match=r"denoiser_network='test-denoiser': the factory could not be called"):
        build_network({"name": "test-denoiser", "depth": 3}, "denoiser", "denoiser_network", in_features=2,
                      out_features=2, condition_dim=0, n_timesteps=10)
    with pytest.raises(ValueError, match="unknown network role"):
        register_network("discriminator", "x", Head)
    assert "test-head" in list_networks("critic")


def test_a_saved_model_needs_its_network_registered_to_load(tmp_path):
    register_network("energy", "test-once", lambda **kw: Head(**kw, scalar=True))
    ebm = EBM(energy_network="test-once", buffer_size=200, max_epochs=1, verbose=0, random_state=0)
    ebm.fit(np.random.default_rng(0).normal(size=(60, 2))).save(tmp_path / "m")
    from synthkit.nn import networks

    del networks._FACTORIES["energy"]["test-once"]
    with pytest.raises(ValueError, match="no energy network named 'test-once' is registered"):
        synthkit.load(tmp_path / "m")


@pytest.mark.filterwarnings("ignore:Full backward hook")
def test_dp_sgd_gets_exact_per_row_gradients_of_a_users_network(assert_exact_per_row_gradients):
    pytest.importorskip("opacus")
    from synthkit.privacy import fit_private

    X = np.random.default_rng(0).normal(size=(64, 2))
    gen = DDPM(denoiser_network="test-denoiser", n_timesteps=50, max_epochs=1, batch_size=32, verbose=0,
               random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Opacus' secure-RNG notice
        fit_private(gen, X, epsilon=3.0, delta=1e-4)
    assert isinstance(gen.modules_["denoiser"], Denoiser) and np.isfinite(gen.sample(10)).all()
    modules = gen.modules_.train()
    x = torch.as_tensor((X[:4] - gen.mean_) / gen.scale_, dtype=torch.float32)
    assert_exact_per_row_gradients(modules, "DDPM", lambda: gen.training_loss(x), len(x), atol=1e-4)
