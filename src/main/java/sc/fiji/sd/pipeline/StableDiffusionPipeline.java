package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.function.Consumer;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.onnx.VaeTiling;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.image.ImageTensors;
import sc.fiji.sd.image.Masks;
import sc.fiji.sd.model.MemoryEstimate;
import sc.fiji.sd.model.ModelInfo;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.Cancellation;
import sc.fiji.sd.onnx.CfgMode;
import sc.fiji.sd.onnx.Tensors;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;
import sc.fiji.sd.provenance.Provenance;
import sc.fiji.sd.scheduler.Scheduler;

/**
 * Stable Diffusion on ONNX Runtime: text to image, image to image and inpainting with one denoising loop.
 * <p>
 * Reproducibility: the initial noise of image {@code i} of a run is {@code new java.util.Random(seed + i)}
 * {@code .nextGaussian()} drawn in NCHW order (channel, then row, then column); stochastic samplers draw the step noise
 * of image {@code i} from a {@link SplittableRandom} seeded with {@code seed + i} ({@link PerImageNoise}), so every
 * image of a batch replays alone from its seed. The same request and seed give the same pixels on the same machine.
 * <p>
 * One pipeline per model; {@link #generate} is not meant to run concurrently on one instance.
 */
public final class StableDiffusionPipeline {

	private final StableDiffusionModel model;
	private final ModelInfo info;
	private final SchedulerFactory schedulers;
	private final AtomicLong unetCalls = new AtomicLong();
	private final AtomicLong unetSamples = new AtomicLong();
	private TextConditioning textConditioning; // created on first use: loads the tokenizer
	private volatile CfgMode cfgMode;
	private volatile VaeTiling vaeTiling;

	private MemoryEstimate memory;

	public StableDiffusionPipeline(StableDiffusionModel model) {
		this(model, DefaultSchedulers.forModel(model));
	}

	/** With a sampler factory of one's own (tests, benchmarks). */
	public StableDiffusionPipeline(StableDiffusionModel model, SchedulerFactory schedulers) {
		this.model = model;
		this.info = model.info();
		this.schedulers = schedulers;
		this.cfgMode = model.runtimeOptions().cfg();
		this.vaeTiling = model.runtimeOptions().vaeTiling();
	}

	public StableDiffusionModel model() { return model; }

	/** How CFG runs the UNet: one batch-2 call or two batch-1 calls per step (default: the model's runtime options). */
	public void setCfgMode(CfgMode mode) { this.cfgMode = mode; }

	/** When and how the VAE encodes and decodes in tiles (default: the model's runtime options). */
	public void setVaeTiling(VaeTiling options) { this.vaeTiling = options; }

	/** The CFG mode set (possibly AUTO). */
	public CfgMode cfgMode() { return cfgMode; }

	/** The CFG mode a generation of this size runs with on this model's provider (AUTO resolved). */
	public CfgMode cfgMode(int width, int height) { return cfgMode.resolve(info.provider(), (width / 8) * (height / 8)); }

	/** How many times the UNet ran since this pipeline was made (CFG runs both halves in one call). */
	public long unetCalls() { return unetCalls.get(); }

	/** How many latents the UNet denoised in those calls: its batch sizes summed (2 per image and step with CFG). */
	public long unetSamples() { return unetSamples.get(); }

	/** Runs a generation. Progress and cancellation go through {@code listener} (may be null). */
	public GenerationResult generate(GenerationRequest request, ProgressListener listener) {
		List<GeneratedImage> images = new ArrayList<>();
		GenerationResult r = generate(request, listener, images::add);
		return new GenerationResult(images, r.interrupted(), r.seconds());
	}

	/**
	 * Runs a generation and hands each image to {@code sink} as soon as it is decoded, keeping none: a front end writes
	 * them as they finish, so a long batch needs memory for one batch only. The result's image list is empty.
	 */
	public GenerationResult generate(GenerationRequest request, ProgressListener listener, Consumer<GeneratedImage> sink) {
		ProgressListener progress = listener == null ? ProgressListener.NONE : listener;
		long start = System.nanoTime();
		Plan plan = Plan.of(request, info);
		checkMemory(plan);
		Scheduler probe = schedulers.create(request.scheduler(), new SplittableRandom(0)); // fails early on a bad name
		if (plan.mode != Mode.TEXT_TO_IMAGE && ImageSource.Start.runsNoStep(plan)) return unchanged(request, plan, probe, start, sink);

		progress.status("Encoding the prompt");
		TextEmbeddings text = textConditioning().encode(request.prompt(), request.negativePrompt(), plan.cfg);
		VaeCodec vae = vae();
		ImageSource source = ImageSource.of(plan, request, info, vae, progress);

		List<GeneratedImage> none = List.of();
		int delivered = 0;
		int perBatch = request.batchSize();
		int total = perBatch * request.batchCount();
		Cancellation cancellation = new Cancellation(); // stops a UNet call in flight when the listener cancels
		UnetBatch shape = UnetBatch.of(model, request, plan, cfgMode(plan.width, plan.height) == CfgMode.SEPARATE);
		try (TextInputs unetText = new TextInputs(model.unet(), text, shape);
			CancelWatch watch = new CancelWatch(progress, cancellation))
		{
			for (int b = 0; b < request.batchCount(); b++) {
				long seed = plan.seed + (long) b * perBatch;
				Batch batch = denoise(plan, shape, unetText, source, seed, b * perBatch, total, progress, cancellation);
				// Cancelled before a later batch took its first step: the finished images are the result.
				if (batch.interrupted && batch.stepsDone == 0 && delivered > 0) {
					return new GenerationResult(none, true, seconds(start));
				}
				for (int i = 0; i < perBatch; i++) {
					progress.status("Decoding image " + (b * perBatch + i + 1) + " of " + total);
					Img<FloatType> pixels = source.paste(vae.decode(batch.latents, i, plan.width, plan.height));
					String parameters = Provenance.parameters(request.prompt(), plan.cfg ? request.negativePrompt() : "",
						request.steps(), probe.displayName(), request.guidance(), seed + i, plan.width, plan.height,
						info.name(), plan.mode == Mode.TEXT_TO_IMAGE ? null : request.strength());
					sink.accept(new GeneratedImage(pixels, seed + i, parameters));
					delivered++;
				}
				if (batch.interrupted) return new GenerationResult(none, true, seconds(start));
			}
		}
		catch (OrtException e) {
			throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
		}
		return new GenerationResult(none, false, seconds(start));
	}

	/** Refuses, before any work, a size or batch the CPU's memory cannot hold ({@link MemoryEstimate}). */
	private void checkMemory(Plan plan) {
		if (!"CPU".equals(info.provider())) return;
		if (memory == null) memory = MemoryEstimate.of(info.folder());
		memory.check(plan.width, plan.height, plan.batch, plan.cfg && cfgMode(plan.width, plan.height) == CfgMode.BATCHED,
			info.sizeStep(), MemoryEstimate.availableBytes(), Plan.MAX_SIZE);
	}

	/**
	 * Image to image or inpainting where no denoising step runs (strength 0, or {@code steps × strength < 1}): the
	 * input image itself, every image of the batch, without running any model (the VAE round trip would blur it).
	 */
	private GenerationResult unchanged(GenerationRequest request, Plan plan, Scheduler sampler, long start,
		Consumer<GeneratedImage> sink)
	{
		int total = request.batchSize() * request.batchCount();
		for (int i = 0; i < total; i++) {
			String parameters = Provenance.parameters(request.prompt(), plan.cfg ? request.negativePrompt() : "",
				request.steps(), sampler.displayName(), request.guidance(), plan.seed + i, plan.width, plan.height,
				info.name(), request.strength());
			sink.accept(new GeneratedImage(ImageTensors.copy(request.initImage()), plan.seed + i, parameters));
		}
		return new GenerationResult(List.of(), false, seconds(start));
	}

	/** One batch: the latents after the last finished step, whether the run was cancelled, and steps done. */
	private record Batch(float[] latents, boolean interrupted, int stepsDone) {}

	/**
	 * The denoising loop for one batch of {@code plan.batch} images with seeds {@code seed, seed + 1, …}.
	 */
	private Batch denoise(Plan plan, UnetBatch shape, TextInputs text, ImageSource source, long seed, int firstImage, int totalImages,
		ProgressListener progress, Cancellation cancellation) throws OrtException
	{
		int n = plan.batch, plane = plan.latentW * plan.latentH, latentSize = n * 4 * plane;
		Scheduler scheduler = schedulers.create(plan.schedulerName, new PerImageNoise(seed, n, 4 * plane));
		scheduler.setTimesteps(plan.steps);
		double[] timesteps = scheduler.timesteps();
		ImageSource.Batch start = source.start(scheduler, seed, n);
		float[] latents = start.latents;

		int stepsToRun = timesteps.length - start.first;
		long[] latentShape = { n, 4, plan.latentH, plan.latentW };
		long loopStart = System.nanoTime();
		try (UnetCall unet = new UnetCall(plan, shape, text, n)) {
			for (int i = start.first; i < timesteps.length; i++) {
				if (progress.isCanceled() || cancellation.isCancelled()) return new Batch(latents, true, i - start.first);
				double t = timesteps[i];
				float[] modelInput = scheduler.scaleModelInput(latents, t);
				// the last step hands the UNet's working memory back before the VAE decoder needs its own (a cancelled
				// batch leaves it with the session until the next batch's last step or until the model is closed)
				float[] noisePrediction;
				try {
					noisePrediction = unet.run(modelInput, t, source, i == timesteps.length - 1, cancellation);
				}
				catch (Cancellation.CancelledException e) { // terminated mid-call: the last finished step is the result
					return new Batch(latents, true, i - start.first);
				}
				NonFinite.checkUnet(noisePrediction, i - start.first + 1, stepsToRun);
				latents = scheduler.step(noisePrediction, t, latents);
				NonFinite.checkLatents(latents, scheduler.displayName(), i - start.first + 1, stepsToRun);
				start.afterStep(latents, i);
				int done = i - start.first + 1;
				progress.stepFinished(new StepProgress(firstImage, totalImages, done, stepsToRun,
					(System.nanoTime() - loopStart) / 1e9 / done, latents, scheduler.predictedOriginalSample(),
					latentShape.clone()));
			}
		}
		if (latents.length != latentSize) throw new IllegalStateException("Scheduler changed the latent size");
		return new Batch(latents, false, stepsToRun);
	}

	/** Classifier-free guidance: {@code u + g·(c − u)} over the [uncond | cond] halves of the UNet batch. */
	static void guide(float[] prediction, float guidance, float[] out) {
		int half = out.length;
		for (int j = 0; j < half; j++) {
			float u = prediction[j];
			out[j] = u + guidance * (prediction[half + j] - u);
		}
	}

	/**
	 * LCM guidance embedding, as diffusers' LatentConsistencyModelPipeline computes it: {@code w = (g − 1)·1000};
	 * {@code [sin(w·f_k), cos(w·f_k)]} with {@code f_k = exp(−k·ln(10000)/(dim/2 − 1))}, zero-padded to an odd width.
	 */
	static float[] guidanceEmbedding(double guidance, int dim) {
		double w = (guidance - 1) * 1000.0;
		int half = dim / 2;
		float[] out = new float[dim];
		double step = Math.log(10000.0) / (half - 1);
		for (int k = 0; k < half; k++) {
			float f = (float) Math.exp(-k * step);
			double arg = (float) w * f;
			out[k] = (float) Math.sin(arg);
			out[half + k] = (float) Math.cos(arg);
		}
		return out;
	}

	private static float[] repeat(float[] one, int times) {
		float[] out = new float[one.length * times];
		for (int i = 0; i < times; i++) System.arraycopy(one, 0, out, i * one.length, one.length);
		return out;
	}

	private static double seconds(long start) {
		return (System.nanoTime() - start) / 1e9;
	}

	private synchronized TextConditioning textConditioning() {
		if (textConditioning == null) textConditioning = TextConditioning.forModel(model);
		return textConditioning;
	}

	/** The VAE with the tiling set now. */
	private VaeCodec vae() {
		return new VaeCodec(model, vaeTiling);
	}

	/** VAE encoder: [1, 3, H, W] in [−1, 1] → scaled latents [1, 4, H/8, W/8] (tests). */
	float[] encodeImage(float[] nchw, int width, int height) {
		return vae().encode(nchw, width, height);
	}

	/** Decodes latents (e.g. from a {@link StepProgress}) for a preview or a test: image {@code index}, X × Y × 3. */
	public Img<FloatType> decodeLatents(float[] latents, int index, int width, int height) {
		return vae().decode(latents, index, width, height);
	}

	/** Encodes an RGB image (X × Y × 3 in [0, 1]) and decodes it again: what image to image at strength 0 returns. */
	public Img<FloatType> vaeRoundTrip(RandomAccessibleInterval<FloatType> rgb) {
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		VaeCodec vae = vae();
		return vae.decode(vae.encode(ImageTensors.toNchw(rgb), w, h), 0, w, h);
	}

	// ---- the UNet call ----

	/**
	 * One batch's UNet inputs and outputs, allocated once and refilled each step: the direct buffers behind
	 * {@code sample} and the pinned {@code out_sample} tensors are reused, so a step allocates no large Java arrays
	 * besides what the sampler returns. With CFG in separate calls, both calls share {@code sample} and each writes its
	 * own output; the prediction has the {@code [uncond, cond]} layout either way.
	 */
	private final class UnetCall implements AutoCloseable {
		final OnnxComponent unet = model.unet();
		final Plan plan;
		final TextInputs text;
		final int calls;
		final int images, copies, plane, callBatch;
		final Tensors.Reusable sample;
		final List<Tensors.Reusable> outputs = new ArrayList<>();
		final OnnxTensor timestepCond;
		final String outputName;
		final float[] prediction;

		UnetCall(Plan plan, UnetBatch shape, TextInputs text, int images) throws OrtException {
			this.plan = plan;
			this.text = text;
			this.images = images;
			this.copies = plan.cfg ? 2 : 1;
			this.plane = plan.latentW * plan.latentH;
			this.callBatch = shape.callBatch();
			this.calls = shape.calls().size();
			sample = new Tensors.Reusable(unet.inputType("sample"),
				new long[] { callBatch, info.unetInChannels(), plan.latentH, plan.latentW });
			outputName = unet.outputNamed("out_sample");
			for (int c = 0; c < calls; c++) {
				outputs.add(new Tensors.Reusable(unet.outputType(outputName),
					new long[] { callBatch, 4, plan.latentH, plan.latentW }));
			}
			if (info.lcm()) {
				float[] emb = guidanceEmbedding(plan.guidance, info.timestepCondDim());
				timestepCond = Tensors.create(unet.inputType("timestep_cond"), ImageSource.repeat(emb, callBatch),
					new long[] { callBatch, info.timestepCondDim() });
			}
			else timestepCond = null;
			prediction = new float[copies * images * 4 * plane];
		}

		/**
		 * The noise prediction (guided when CFG) for the scaled model input at timestep t; {@code last}: the batch's
		 * last step, after which the UNet session releases its working memory.
		 */
		float[] run(float[] modelInput, double t, ImageSource source, boolean last, Cancellation cancellation)
			throws OrtException
		{
			int channels = info.unetInChannels();
			for (int k = 0; k < callBatch / images; k++) {
				for (int b = 0; b < images; b++) {
					int at = ((k * images + b) * channels) * plane;
					sample.put(at, modelInput, b * 4 * plane, 4 * plane);
					if (channels == 9) sample.put(at + 4 * plane, source.unetChannels(), 0, 5 * plane);
				}
			}
			// [] (optimum), [B] (diffusers script; also accepts [1] and broadcasts), or a fixed [1]
			long[] declared = unet.inputShape("timestep");
			boolean scalar = declared.length == 0;
			int count = scalar ? 1 : declared[0] > 0 ? (int) declared[0] : callBatch;
			float[] tv = new float[count];
			Arrays.fill(tv, (float) t);
			try (OnnxTensor timestep = Tensors.create(unet.inputType("timestep"), tv,
				scalar ? new long[0] : new long[] { count }))
			{
				for (int c = 0; c < outputs.size(); c++) {
					Map<String, OnnxTensor> inputs = new HashMap<>();
					inputs.put("sample", sample.tensor());
					inputs.put("timestep", timestep);
					inputs.putAll(text.forCall(c));
					if (timestepCond != null) inputs.put("timestep_cond", timestepCond);
					Map<String, OnnxValue> pinned = Map.of(outputName, outputs.get(c).tensor());
					boolean release = last && c == outputs.size() - 1;
					try (OrtSession.Result ignored = unet.run(inputs, pinned, release, cancellation)) {
						unetCalls.incrementAndGet();
						unetSamples.addAndGet(callBatch);
					}
					outputs.get(c).get(prediction, c * callBatch * 4 * plane);
				}
			}
			// A fresh array for the sampler: multistep samplers keep earlier predictions.
			if (!plan.cfg) return Arrays.copyOf(prediction, images * 4 * plane);
			float[] guided = new float[images * 4 * plane];
			guide(prediction, (float) plan.guidance, guided);
			return guided;
		}

		@Override
		public void close() {
			sample.close();
			outputs.forEach(Tensors.Reusable::close);
			if (timestepCond != null) timestepCond.close();
		}
	}
}
