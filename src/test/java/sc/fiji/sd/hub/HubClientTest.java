package sc.fiji.sd.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.model.EmbeddedModel;

/** Downloads from {@link FakeHub} (two local servers: the hub and a CDN on another port); never the real hub. */
class HubClientTest {

	@TempDir
	Path cacheRoot;

	FakeHub hub;

	@BeforeEach
	void start() throws IOException {
		hub = new FakeHub(Path.of("models", EmbeddedModel.NAME), "");
	}

	@AfterEach
	void stop() {
		hub.close();
	}

	HubEnvironment env(String token, boolean offline) {
		Map<String, String> vars = new HashMap<>();
		vars.put("HF_ENDPOINT", hub.endpoint());
		vars.put("HF_HUB_CACHE", cacheRoot.toString());
		if (token != null) vars.put("HF_TOKEN", token);
		if (offline) vars.put("HF_HUB_OFFLINE", "1");
		return HubEnvironment.from(vars, Path.of("/nonexistent-home"));
	}

	static final RepoId ID = RepoId.parse(FakeHub.REPO, null);

	@Test
	void downloadsOnlyTheOnnxPipelineIntoTheCacheLayout() throws IOException {
		hub.pageSize = 7; // the listing comes in several pages
		HubClient client = new HubClient(env(null, false));
		DownloadPlan plan = client.plan(ID, new CancelToken());
		assertEquals(FakeHub.COMMIT, plan.commit());
		assertTrue(plan.files().stream().noneMatch(f -> f.path().endsWith(".safetensors") || f.path().endsWith(".md")
			|| f.path().endsWith(".png")), plan.files().toString());
		long expected = hub.files().entrySet().stream().filter(e -> FileSelection.needed(e.getKey()))
			.mapToLong(e -> e.getValue().length).sum();
		assertEquals(expected, plan.totalBytes());
		assertEquals(expected, plan.missingBytes());

		List<DownloadListener.Progress> progress = new ArrayList<>();
		Path folder = client.download(plan, new DownloadListener() {
			@Override
			public void progress(Progress p) { progress.add(p); }
		}, new CancelToken());

		Path repo = cacheRoot.resolve("models--test-org--tiny-sd-shapes");
		assertEquals(repo.resolve("snapshots").resolve(FakeHub.COMMIT), folder);
		assertEquals(FakeHub.COMMIT, Files.readString(repo.resolve("refs/main")));
		for (HubFile f : plan.files()) {
			Path link = folder.resolve(f.path());
			assertTrue(Files.isSymbolicLink(link), link + " is a link into blobs/");
			assertFalse(Files.readSymbolicLink(link).isAbsolute(), "links are relative, as huggingface_hub makes them");
			assertEquals(repo.resolve("blobs").resolve(f.etag()), link.getParent().resolve(Files.readSymbolicLink(link))
				.normalize());
			assertArrayEquals(hub.content(f.path()), Files.readAllBytes(link));
		}
		assertFalse(Files.exists(folder.resolve("unet/diffusion_pytorch_model.safetensors")));
		assertTrue(hub.seen.stream().noneMatch(s -> s.path().contains("safetensors")), "PyTorch weights never asked for");
		assertTrue(hub.seenOn("cdn").size() >= 4, "LFS files came from the CDN server");
		DownloadListener.Progress last = progress.get(progress.size() - 1);
		assertEquals(last.total(), last.done());
		assertEquals(0, last.secondsLeft());
		try (Stream<Path> blobs = Files.list(repo.resolve("blobs"))) {
			assertTrue(blobs.noneMatch(p -> p.toString().endsWith(".incomplete")));
		}
		// The same model again: nothing is fetched.
		int before = hub.seenOn("cdn").size();
		assertEquals(0, client.plan(ID, new CancelToken()).missingBytes());
		client.download(ID, DownloadListener.NONE, new CancelToken());
		assertEquals(before, hub.seenOn("cdn").size());
	}

	@Test
	void theTokenGoesToTheHubButNotToTheCdn() {
		hub.requiredToken = "secret";
		new HubClient(env("secret", false)).download(ID, DownloadListener.NONE, new CancelToken());
		assertTrue(hub.seenOn("hub").stream().allMatch(s -> "Bearer secret".equals(s.authorization())));
		assertTrue(hub.seenOn("cdn").stream().allMatch(s -> s.authorization() == null), "no token to another host");
	}

	@Test
	void aCutTransferIsKeptAndResumedWithARange() throws IOException {
		hub.cutAfter = 100_000;
		HubClient client = new HubClient(env(null, false));
		HubException e = assertThrows(HubException.class, () -> client.download(ID, DownloadListener.NONE,
			new CancelToken()));
		assertEquals(HubException.Kind.SERVER, e.kind());
		assertTrue(e.getMessage().contains("resumes"), e.getMessage());
		Path snapshot = cacheRoot.resolve("models--test-org--tiny-sd-shapes/snapshots/" + FakeHub.COMMIT);
		assertFalse(Files.exists(snapshot.resolve("unet/model.onnx")), "nothing half-written in the snapshot");
		long partial;
		try (Stream<Path> blobs = Files.list(snapshot.getParent().getParent().resolve("blobs"))) {
			Path incomplete = blobs.filter(p -> p.toString().endsWith(".incomplete")).findFirst().orElseThrow();
			partial = Files.size(incomplete);
		}
		assertTrue(partial > 0 && partial <= 100_000, "the bytes that arrived are kept: " + partial);

		hub.cutAfter = -1;
		Path folder = client.download(ID, DownloadListener.NONE, new CancelToken());
		assertTrue(hub.seenOn("cdn").stream().anyMatch(s -> ("bytes=" + partial + "-").equals(s.range())),
			"resumed with a Range request: " + hub.seenOn("cdn"));
		for (String f : List.of("unet/model.onnx", "text_encoder/model.onnx", "vae_decoder/model.onnx"))
			assertArrayEquals(hub.content(f), Files.readAllBytes(folder.resolve(f)), f);
	}

	@Test
	void aWrongChecksumIsRefusedAndNothingIsLinked() throws IOException {
		hub.corrupt.add("vae_decoder/model.onnx");
		HubClient client = new HubClient(env(null, false));
		HubException e = assertThrows(HubException.class, () -> client.download(ID, DownloadListener.NONE,
			new CancelToken()));
		assertEquals(HubException.Kind.CHECKSUM, e.kind());
		assertTrue(e.getMessage().contains("vae_decoder/model.onnx"), e.getMessage());
		Path repo = cacheRoot.resolve("models--test-org--tiny-sd-shapes");
		assertFalse(Files.exists(repo.resolve("snapshots")), "no snapshot from a failed download");
		assertFalse(Files.exists(repo.resolve("blobs").resolve(hub.sha256("vae_decoder/model.onnx") + ".incomplete")),
			"a wrong file is not kept for resuming");
		assertFalse(Files.exists(repo.resolve("blobs").resolve(hub.sha256("vae_decoder/model.onnx"))));
	}

	@Test
	void refusalsSayWhatToDo() {
		hub.requiredToken = "secret";
		HubException noToken = assertThrows(HubException.class,
			() -> new HubClient(env(null, false)).plan(ID, new CancelToken()));
		assertEquals(HubException.Kind.NOT_FOUND, noToken.kind()); // the hub hides private repositories
		assertTrue(noToken.getMessage().contains("HF_TOKEN"), noToken.getMessage());

		hub.requiredToken = null;
		hub.gated = true;
		HubException gated = assertThrows(HubException.class,
			() -> new HubClient(env(null, false)).plan(ID, new CancelToken()));
		assertEquals(HubException.Kind.GATED, gated.kind());
		assertTrue(gated.getMessage().contains("gated") && gated.getMessage().contains("HF_TOKEN"), gated.getMessage());

		hub.gated = false;
		HubException repo = assertThrows(HubException.class, () -> new HubClient(env(null, false))
			.plan(RepoId.parse("test-org/no-such-model", null), new CancelToken()));
		assertEquals(HubException.Kind.NOT_FOUND, repo.kind());
		assertTrue(repo.getMessage().contains("test-org/no-such-model"), repo.getMessage());

		HubException revision = assertThrows(HubException.class, () -> new HubClient(env(null, false))
			.plan(RepoId.parse(FakeHub.REPO + "@no-such-branch", null), new CancelToken()));
		assertTrue(revision.getMessage().contains("no revision \"no-such-branch\""), revision.getMessage());
	}

	@Test
	void aPlainUnauthorizedAnswerAsksForAToken() {
		HubClient client = new HubClient(env(null, false));
		// 401 without an error code (e.g. a mirror that wants a login).
		assertEquals(HubException.Kind.UNAUTHORIZED, assertThrows(HubException.class, () -> {
			try (var server = new StatusServer(401)) {
				new HubClient(HubEnvironment.from(Map.of("HF_ENDPOINT", server.endpoint(), "HF_HUB_CACHE",
					cacheRoot.toString()), cacheRoot)).plan(ID, new CancelToken());
			}
		}).kind());
		assertTrue(client.cache().models().isEmpty());
	}

	@Test
	void cancelStopsASlowTransferAndKeepsItResumable() throws Exception {
		hub.slowMillis = 20;
		HubClient client = new HubClient(env(null, false));
		CancelToken cancel = new CancelToken();
		CountDownLatch started = new CountDownLatch(1);
		CompletableFuture<Path> run = CompletableFuture.supplyAsync(() -> client.download(ID, new DownloadListener() {
			@Override
			public void progress(Progress p) {
				if (p.done() > 50_000) started.countDown();
			}
		}, cancel));
		assertTrue(started.await(60, TimeUnit.SECONDS), "the transfer started");
		cancel.cancel();
		ExecutionException e = assertThrows(ExecutionException.class, () -> run.get(30, TimeUnit.SECONDS));
		assertEquals(HubException.Kind.CANCELLED, ((HubException) e.getCause()).kind());
		Path repo = cacheRoot.resolve("models--test-org--tiny-sd-shapes");
		assertFalse(Files.exists(repo.resolve("snapshots")));
		try (Stream<Path> blobs = Files.list(repo.resolve("blobs"))) {
			assertTrue(blobs.anyMatch(p -> p.toString().endsWith(".incomplete")), "the partial file stays to resume");
		}
		hub.slowMillis = 0;
		Path folder = client.download(ID, DownloadListener.NONE, new CancelToken());
		assertArrayEquals(hub.content("unet/model.onnx"), Files.readAllBytes(folder.resolve("unet/model.onnx")));
	}

	@Test
	void notEnoughFreeSpaceIsSaidBeforeStarting() {
		Storage tiny = new Storage() {
			@Override
			public long usableBytes(Path folder) { return 1000; }

			@Override
			public OutputStream open(Path file, boolean append) throws IOException {
				return Storage.FILES.open(file, append);
			}
		};
		HubClient client = new HubClient(env(null, false), tiny);
		HubException e = assertThrows(HubException.class, () -> client.download(ID, DownloadListener.NONE,
			new CancelToken()));
		assertEquals(HubException.Kind.DISK_FULL, e.kind());
		assertTrue(e.getMessage().contains("free") && e.getMessage().contains("HF_HUB_CACHE"), e.getMessage());
		assertTrue(hub.seenOn("cdn").isEmpty(), "nothing fetched");
	}

	@Test
	void aDiskThatFillsUpMidwayIsReportedAndResumable() throws IOException {
		Storage fillsUp = new Storage() {
			@Override
			public long usableBytes(Path folder) { return Long.MAX_VALUE; }

			@Override
			public OutputStream open(Path file, boolean append) throws IOException {
				OutputStream real = Storage.FILES.open(file, append);
				return new OutputStream() {
					long written;

					@Override
					public void write(int b) throws IOException { write(new byte[] { (byte) b }, 0, 1); }

					@Override
					public void write(byte[] b, int off, int len) throws IOException {
						if (written + len > 200_000) throw new IOException("No space left on device");
						real.write(b, off, len);
						written += len;
					}

					@Override
					public void close() throws IOException { real.close(); }
				};
			}
		};
		HubException e = assertThrows(HubException.class, () -> new HubClient(env(null, false), fillsUp)
			.download(ID, DownloadListener.NONE, new CancelToken()));
		assertEquals(HubException.Kind.DISK_FULL, e.kind());
		assertTrue(e.getMessage().contains("disk is full") && e.getMessage().contains("resumes"), e.getMessage());
		assertFalse(Files.exists(cacheRoot.resolve("models--test-org--tiny-sd-shapes/snapshots")));
		Path folder = new HubClient(env(null, false)).download(ID, DownloadListener.NONE, new CancelToken());
		assertArrayEquals(hub.content("unet/model.onnx"), Files.readAllBytes(folder.resolve("unet/model.onnx")));
	}

	@Test
	void offlineUsesTheCacheAndNeverTheNetwork() {
		HubException e = assertThrows(HubException.class,
			() -> new HubClient(env(null, true)).download(ID, DownloadListener.NONE, new CancelToken()));
		assertEquals(HubException.Kind.OFFLINE, e.kind());
		assertTrue(e.getMessage().contains("HF_HUB_OFFLINE"), e.getMessage());
		assertTrue(hub.seen.isEmpty());

		Path online = new HubClient(env(null, false)).download(ID, DownloadListener.NONE, new CancelToken());
		int requests = hub.seen.size();
		assertEquals(online, new HubClient(env(null, true)).download(ID, DownloadListener.NONE, new CancelToken()));
		assertEquals(requests, hub.seen.size(), "offline: no request");
	}

	@Test
	void anUnreachableHubIsOffline() throws IOException {
		int port;
		try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
			port = s.getLocalPort();
		}
		HubException e = assertThrows(HubException.class, () -> new HubClient(HubEnvironment.from(Map.of("HF_ENDPOINT",
			"http://127.0.0.1:" + port, "HF_HUB_CACHE", cacheRoot.toString()), cacheRoot)).plan(ID, new CancelToken()));
		assertEquals(HubException.Kind.OFFLINE, e.kind());
		assertTrue(e.getMessage().contains("Cannot reach"), e.getMessage());
	}

	@Test
	void anExportInASubfolderIsFound() throws IOException {
		hub.close();
		hub = new FakeHub(Path.of("models", EmbeddedModel.NAME), "onnx/");
		HubClient client = new HubClient(env(null, false));
		DownloadPlan plan = client.plan(ID, new CancelToken());
		assertEquals("onnx", plan.folder());
		Path folder = client.download(plan, DownloadListener.NONE, new CancelToken());
		assertEquals("onnx", folder.getFileName().toString());
		assertTrue(Files.isRegularFile(folder.resolve("model_index.json")));

		HubException wrong = assertThrows(HubException.class,
			() -> client.plan(RepoId.parse(FakeHub.REPO, "elsewhere"), new CancelToken()));
		assertEquals(HubException.Kind.NOT_ONNX, wrong.kind());
		assertTrue(wrong.getMessage().contains("\"onnx\""), wrong.getMessage());
		assertEquals(folder, client.cache().cachedModel(RepoId.parse(FakeHub.REPO, "onnx")).orElseThrow());
	}

	@Test
	void aFileListThatPointsOutsideTheCacheIsRefused() {
		hub.files().put("unet/../../../../escaped.json", new byte[] { 1 });
		HubException e = assertThrows(HubException.class,
			() -> new HubClient(env(null, false)).plan(ID, new CancelToken()));
		assertTrue(e.getMessage().contains("will not write"), e.getMessage());
		assertFalse(Files.exists(cacheRoot.getParent().resolve("escaped.json")));
	}

	@Test
	void environmentFollowsHuggingFaceHub() {
		Path home = Path.of("/home/u");
		HubEnvironment d = HubEnvironment.from(Map.of(), home);
		assertEquals("https://huggingface.co", d.endpoint());
		assertEquals(home.resolve(".cache/huggingface/hub"), d.cache());
		assertNull(d.token());
		assertFalse(d.offline());
		HubEnvironment h = HubEnvironment.from(Map.of("HF_HOME", "/data/hf", "HF_TOKEN", "t", "HF_HUB_OFFLINE", "TRUE",
			"HF_ENDPOINT", "http://mirror/"), home);
		assertEquals(Path.of("/data/hf/hub"), h.cache());
		assertEquals("http://mirror", h.endpoint());
		assertEquals("t", h.token());
		assertTrue(h.offline());
		assertEquals(Path.of("/c"), HubEnvironment.from(Map.of("HF_HOME", "/data/hf", "HF_HUB_CACHE", "/c"), home).cache());
	}

	@Test
	void repositoryIds() {
		RepoId r = RepoId.parse("org/name@onnx", "sub/");
		assertEquals("org/name", r.repo());
		assertEquals("onnx", r.revision());
		assertEquals("sub", r.subfolder());
		assertEquals("models--org--name", r.cacheFolderName());
		assertEquals("main", RepoId.parse("org/name", null).revision());
		for (String bad : List.of("name", "org/name/extra", "/abs/path", "org/../x", "org--x/name", ""))
			assertThrows(sc.fiji.sd.StableDiffusionException.class, () -> RepoId.parse(bad, null), bad);
		assertTrue(RepoId.looksLikeRepoId("org/name@v1"));
		assertFalse(RepoId.looksLikeRepoId("/models/sd15"));
	}
}
