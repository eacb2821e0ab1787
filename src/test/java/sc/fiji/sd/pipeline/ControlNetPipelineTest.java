package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.real.FloatType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.image.Lanczos;
import sc.fiji.sd.model.ControlNetModel;
import sc.fiji.sd.model.ModelProvider;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.CfgMode;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.RuntimeOptions;

/**
 * ControlNet on the split-layout fixtures beyond the reference's cases ({@link ReferencePipelineConformanceTest}): the
 * shared-weights identity at scale 0, one ControlNet call per UNet call (and none outside the window), resizing,
 * cancellation inside a step, and every bad input refused with a message before anything is half-loaded.
 */
class ControlNetPipelineTest {

	private static final Path SCALE = TestModels.controlNet("controlnet-scale");
	private static final Path NOSCALE = TestModels.controlNet("controlnet-noscale");
	private static final RuntimeOptions CPU = RuntimeOptions.DEFAULTS.withDevice(Device.CPU);

	/** A white disc on black, w × h. */
	static Img<FloatType> disc(int w, int h) {
		Img<FloatType> img = ArrayImgs.floats(w, h, 3);
		for (int c = 0; c < 3; c++) {
			for (int y = 0; y < h; y++) {
				for (int x = 0; x < w; x++) {
					double dx = (x - w * 0.55) / w, dy = (y - h * 0.45) / h;
					img.getAt(x, y, c).set(dx * dx + dy * dy < 0.08 ? 1f : 0f);
				}
			}
		}
		return img;
	}

	private static GenerationRequest.Builder request() {
		return GenerationRequest.builder().prompt("a red circle").negativePrompt("blurry").size(64, 64).steps(4)
			.scheduler("DDIM").guidance(6).seed(3);
	}

	private static Img<FloatType> one(StableDiffusionPipeline p, GenerationRequest.Builder b) {
		return p.generate(b.build(), null).images().get(0).pixels();
	}

	/** Counts the calls of a component while {@code work} runs. */
	private static int calls(OnnxComponent c, Runnable work) {
		AtomicInteger n = new AtomicInteger();
		c.setCallListener((component, inputs, result, nanos, released) -> n.incrementAndGet());
		try {
			work.run();
		}
		finally {
			c.setCallListener(null);
		}
		return n.get();
	}

	private static OnnxComponent net(StableDiffusionPipeline p, Path path) {
		Path wanted = ControlNetModel.normalize(path);
		return p.model().controlNets().stream().filter(n -> n.source().equals(wanted)).findFirst().orElseThrow()
			.component();
	}

	@Test
	void scaleZeroOrNoControlIsThePlainUnet() {
		// controlnet/model.onnx has unet/model.onnx's weights: zero residuals must give the plain model's pixels
		scaleZeroIsThePlainUnet("controlnet", List.of(SCALE, NOSCALE));
	}

	/**
	 * The {@code base} fixture loaded with {@code nets}: no unit, or each unit at scale 0, gives the pixels of the base
	 * without ControlNets; the last unit at scale 1 changes them.
	 */
	private static void scaleZeroIsThePlainUnet(String base, List<Path> nets) {
		Img<FloatType> plain = one(TestModels.pipeline(base), request());
		StableDiffusionPipeline cn = TestModels.controlNetPipeline(base);
		assertTrue(PipelineEndToEndTest.samePixels(plain, one(cn, request())));
		for (Path net : nets) {
			assertTrue(PipelineEndToEndTest.samePixels(plain, one(cn, request().control(
				new ControlNetUnit(net, disc(64, 64), "none").withScale(0)))), net.toString());
		}
		assertFalse(PipelineEndToEndTest.samePixels(plain, one(cn, request().control(
			new ControlNetUnit(nets.get(nets.size() - 1), disc(64, 64), "none")))));
	}

	@Test
	void oneControlNetCallPerUnetCallWithinTheWindow() {
		StableDiffusionPipeline p = TestModels.controlNetPipeline();
		OnnxComponent scale = net(p, SCALE), noscale = net(p, NOSCALE);
		ControlNetUnit a = new ControlNetUnit(SCALE, disc(64, 64), "none");
		ControlNetUnit b = new ControlNetUnit(NOSCALE, disc(64, 64), "none");
		long unet = p.unetCalls();
		assertEquals(4, calls(scale, () -> one(p, request().control(a))));
		assertEquals(4, p.unetCalls() - unet); // CFG in one batched call per step
		int[] both = new int[2];
		both[0] = calls(scale, () -> both[1] = calls(noscale, () -> one(p, request().control(a).control(b))));
		assertEquals(4, both[0]);
		assertEquals(4, both[1]);
		// diffusers' controlnet_keep over 4 steps: end 0.5 keeps steps 0 and 1; start 0.5 keeps 2 and 3, and as no
		// ControlNet acts at the first call, one run learns the residuals' shapes for the zeros of steps 0 and 1
		assertEquals(2, calls(scale, () -> one(p, request().control(a.withGuidance(0, 0.5)))));
		assertEquals(1 + 2, calls(scale, () -> one(p, request().control(a.withGuidance(0.5, 1)))));
		assertEquals(1, calls(scale, () -> one(p, request().control(a.withScale(0)))));
	}

	/**
	 * Tiled diffusion with a ControlNet: one ControlNet call per tile call, and a tile as large as the image is the
	 * untiled run exactly (its window is the whole control image). That each tile sees its own part of the control
	 * image is measured on the embedded model (EmbeddedControlNetQualityTest: a mask three tiles wide is followed).
	 */
	@Test
	void tiledDiffusionRunsTheControlNetOnEachTile() {
		StableDiffusionPipeline p = TestModels.controlNetPipeline();
		OnnxComponent scale = net(p, SCALE);
		GenerationRequest.Builder b = request().size(128, 64).mode(GenerationRequest.Mode.IMAGE_TO_IMAGE)
			.initImage(disc(128, 64)).strength(1).control(new ControlNetUnit(SCALE, disc(128, 64), "none"));
		Img<FloatType> untiled = one(p, b.tileSize(0));
		assertTrue(PipelineEndToEndTest.samePixels(untiled, one(p, b.tileSize(128))), "one tile as large as the image");
		long unet = p.unetCalls();
		int controlNetCalls = calls(scale, () -> one(p, b.tileSize(64).tileOverlap(16)));
		long unetCalls = p.unetCalls() - unet;
		assertTrue(unetCalls >= 2 * 4, "two or more tiles at each of the 4 steps: " + unetCalls);
		assertEquals(unetCalls, controlNetCalls);
	}

	@Test
	void controlImageOfAnotherSizeIsResizedAndSaidSo() {
		StableDiffusionPipeline p = TestModels.controlNetPipeline();
		Img<FloatType> small = disc(40, 24);
		List<String> status = new ArrayList<>();
		ProgressListener listener = new ProgressListener() {
			@Override
			public void stepFinished(StepProgress progress) {}

			@Override
			public void status(String message) {
				status.add(message);
			}
		};
		Img<FloatType> resized = p.generate(request().control(new ControlNetUnit(NOSCALE, small, "none")).build(),
			listener).images().get(0).pixels();
		assertTrue(status.contains("ControlNet 0: control image 40x24 resized to the output size 64x64"), status
			.toString());
		Img<FloatType> same = one(p, request().control(new ControlNetUnit(NOSCALE, Lanczos.resize(small, 64, 64),
			"none")));
		assertTrue(PipelineEndToEndTest.samePixels(same, resized));
	}

	/**
	 * With CFG in two calls per step, a cancel during the first call's UNet run stops the second call's ControlNet
	 * run (it is registered with the generation's cancellation) and the run ends interrupted after step 1.
	 */
	@Test
	void cancelStopsTheControlNetCall() throws InterruptedException {
		StableDiffusionPipeline p = new StableDiffusionPipeline(TestModels.controlNetPipeline().model());
		p.setCfgMode(CfgMode.SEPARATE);
		AtomicBoolean cancel = new AtomicBoolean();
		Thread generating = Thread.currentThread();
		CountDownLatch watched = new CountDownLatch(2); // two polls by the watcher after the cancel: it has cancelled
		ProgressListener listener = new ProgressListener() {
			@Override
			public void stepFinished(StepProgress progress) {}

			@Override
			public boolean isCanceled() {
				if (cancel.get() && Thread.currentThread() != generating) watched.countDown();
				return cancel.get();
			}
		};
		OnnxComponent unet = p.model().unet(), scale = net(p, SCALE);
		AtomicInteger controlNetCalls = new AtomicInteger();
		scale.setCallListener((c, in, r, ns, rel) -> controlNetCalls.incrementAndGet());
		unet.setCallListener((c, in, r, ns, rel) -> {
			cancel.set(true);
			try {
				watched.await(30, TimeUnit.SECONDS);
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
		});
		GenerationResult r;
		try {
			r = p.generate(request().control(new ControlNetUnit(SCALE, disc(64, 64), "none")).build(), listener);
		}
		finally {
			unet.setCallListener(null);
			scale.setCallListener(null);
		}
		assertEquals(0, watched.getCount(), "the watcher saw the cancel");
		assertTrue(r.interrupted());
		assertEquals(1, controlNetCalls.get(), "the negative half's ControlNet call ran, the prompt half's was stopped");
		assertEquals(1, r.images().size());
	}

	private static String refusal(Path base, Path... controlNets) {
		try (ModelProvider provider = new ModelProvider()) {
			String m = assertThrows(StableDiffusionException.class, () -> provider.get(new ModelProvider.Key(base, CPU,
				sc.fiji.sd.lora.LoraSpec.NONE, List.of(controlNets)))).getMessage();
			assertNull(provider.current(), "nothing stays loaded");
			return m;
		}
	}

	@Test
	void baseWithoutControlNetUnetIsRefused() {
		String m = refusal(TestModels.folder("optimum"), SCALE);
		assertTrue(m.contains("controlnet/model.onnx") && m.contains("optimum"), m);
	}

	@Test
	void controlNetForAnotherBaseIsRefusedNamingBoth() {
		Path base = TestModels.folder("controlnet");
		String wide = refusal(base, SCALE, TestModels.controlNet("controlnet-wide"));
		assertTrue(wide.contains("controlnet-wide") && wide.contains(base.toString()) && wide.contains("text width is 6")
			&& wide.contains("the model's 4"), wide);
		String channels = refusal(base, TestModels.controlNet("controlnet-channels"));
		assertTrue(channels.contains("controlnet-channels") && channels.contains(base.toString())
			&& channels.contains("8 channels") && channels.contains("takes 4"), channels);
	}

	@Test
	void sdxlAndSd1ControlNetsAreNotMixed() {
		Path sd1 = TestModels.folder("controlnet"), sdxl = TestModels.folder("sdxl-controlnet");
		Path sdxlNet = TestModels.controlNet("sdxl-controlnet-scale");
		String onSd1 = refusal(sd1, sdxlNet);
		assertTrue(onSd1.contains("sdxl-controlnet-scale") && onSd1.contains(sd1.toString())
			&& onSd1.contains("it is an SDXL ControlNet"), onSd1);
		String onSdxl = refusal(sdxl, SCALE);
		assertTrue(onSdxl.contains("controlnet-scale") && onSdxl.contains(sdxl.toString())
			&& onSdxl.contains("the model is SDXL"), onSdxl);
	}

	@Test
	void sdxlControlNetActsAndAtScaleZeroIsThePlainUnet() {
		// The SDXL ControlNet takes text_embeds and time_ids as the UNet does (an input left out would make ONNX
		// Runtime refuse the call); the reference pipeline's sdxl-controlnet cases check the values.
		scaleZeroIsThePlainUnet("sdxl-controlnet", List.of(TestModels.controlNet("sdxl-controlnet-scale")));
	}

	@Test
	void sdxlRefinerHandOffRunsTheRefinerWithoutTheControlNet() {
		// As diffusers' StableDiffusionXLControlNetPipeline's latents handed to the refiner's img2img pipeline: the
		// ControlNet acts on the base's steps only (DDIM 4 steps: 751 501 | 251 1 at a switch of 0.5).
		Path sdxlNet = TestModels.controlNet("sdxl-controlnet-scale");
		StableDiffusionPipeline cn = TestModels.controlNetPipeline("sdxl-controlnet");
		StableDiffusionPipeline refiner = TestModels.pipeline("sdxl-refiner");
		cn.setRefiner(refiner);
		try {
			long refinerCalls = refiner.unetCalls();
			int controlNetCalls = calls(net(cn, sdxlNet), () -> one(cn, request().refinerSwitch(0.5).control(
				new ControlNetUnit(sdxlNet, disc(64, 64), "none"))));
			assertEquals(2, controlNetCalls);
			assertEquals(2, refiner.unetCalls() - refinerCalls);
		}
		finally {
			cn.setRefiner(null);
		}
	}

	@Test
	void inpaintingUnetIsRefused(@TempDir Path tmp) throws IOException {
		Path base = tmp.resolve("inpaint9");
		TestModels.copyTree(TestModels.folder("inpaint9"), base);
		Files.createDirectories(base.resolve("controlnet"));
		Files.copy(base.resolve("unet/model.onnx"), base.resolve("controlnet/model.onnx"));
		String m = refusal(base, SCALE);
		assertTrue(m.contains("9-channel inpainting UNet"), m);
	}

	@Test
	void missingControlNetIsRefused(@TempDir Path tmp) {
		String m = refusal(TestModels.folder("controlnet"), tmp.resolve("no-such-controlnet"));
		assertTrue(m.contains("no-such-controlnet") && m.contains("does not exist"), m);
		String empty = refusal(TestModels.folder("controlnet"), tmp);
		assertTrue(empty.contains("has no model.onnx"), empty);
	}

	@Test
	void requestWithControlNetsTheModelWasNotLoadedWithIsRefused() {
		ControlNetUnit unit = new ControlNetUnit(NOSCALE, disc(64, 64), "none");
		String plain = assertThrows(StableDiffusionException.class, () -> TestModels.pipeline("controlnet").generate(
			request().control(unit).build(), null)).getMessage();
		assertTrue(plain.contains("controlnet-noscale") && plain.contains("loaded without ControlNets"), plain);
		String other = assertThrows(StableDiffusionException.class, () -> TestModels.controlNetPipeline().generate(
			request().control(new ControlNetUnit(TestModels.controlNet("controlnet-wide"), disc(64, 64), "none"))
				.build(), null)).getMessage();
		assertTrue(other.contains("controlnet-wide") && other.contains("was not loaded"), other);
	}

	@Test
	void keyComparesControlNetPathsNormalised() {
		var a = new ModelProvider.Key(Path.of("m"), CPU, sc.fiji.sd.lora.LoraSpec.NONE, List.of(Path.of("x/../cn")));
		var b = new ModelProvider.Key(Path.of("m"), CPU, sc.fiji.sd.lora.LoraSpec.NONE, List.of(Path.of("cn")));
		assertEquals(a, b);
		assertFalse(a.equals(new ModelProvider.Key(Path.of("m"), CPU)));
		StableDiffusionModel m = TestModels.controlNetPipeline().model();
		assertEquals(2, m.controlNets().size());
		assertTrue(m.controlNets().get(0).scalesItself());
		assertFalse(m.controlNets().get(1).scalesItself());
	}
}
