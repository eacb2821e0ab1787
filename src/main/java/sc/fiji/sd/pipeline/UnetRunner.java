package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import sc.fiji.sd.model.OnnxComponent;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.Cancellation;
import sc.fiji.sd.onnx.Tensors;

/**
 * The UNet for one batch: the noise prediction for the scaled latents at a timestep, guided when CFG runs. Feeds
 * {@code sample} (the latents, then a 9-channel UNet's extra channels), {@code timestep}, the text conditioning of each
 * call ({@link TextInputs}) and every {@link UnetInput}; runs the calls {@link UnetBatch} lays out (CFG batched in one
 * call or separate in two); lets the UNet session release its working memory after the batch's last call; stops a
 * call in flight when cancelled.
 * <p>
 * Inputs and outputs are allocated once and refilled each step: the direct buffers behind {@code sample} and the pinned
 * {@code out_sample} tensors are reused, so a step allocates no large Java arrays besides what the sampler returns.
 * With CFG in separate calls both calls share {@code sample} and each writes its own output; the prediction has the
 * {@code [negative, prompt]} layout either way.
 */
final class UnetRunner implements NoisePredictor {

	private final OnnxComponent unet;
	private final UnetBatch batch;
	private final TextInputs text;
	private final LongConsumer onCall;
	private final int images, plane, channels, callBatch;
	private final List<UnetInput> extraInputs = new ArrayList<>();
	private final List<Tensors.Reusable> outputs = new ArrayList<>();
	private final Tensors.Reusable sample;
	private final String outputName;
	private final float[] prediction;
	/** Where the calls' latents lie in the whole latent (tiled diffusion moves it). */
	private UnetInput.Window window;

	/**
	 * @param extraChannels a 9-channel UNet's channels after the latents, the same for every image, or null
	 * @param inputs the factories of the extra inputs
	 * @param onCall told the batch size of every UNet call that finished (the pipeline's counters)
	 */
	UnetRunner(StableDiffusionModel model, UnetBatch batch, TextInputs text, float[] extraChannels,
		List<UnetInput.Factory> inputs, LongConsumer onCall) throws OrtException
	{
		this.unet = model.unet();
		this.batch = batch;
		this.text = text;
		this.onCall = onCall;
		this.images = batch.images();
		this.plane = batch.latentWidth() * batch.latentHeight();
		this.channels = model.info().unetInChannels();
		this.callBatch = batch.callBatch();
		long[] latentShape = { callBatch, 4, batch.latentHeight(), batch.latentWidth() };
		this.outputName = unet.outputNamed("out_sample");
		this.prediction = new float[batch.calls().size() * callBatch * 4 * plane];
		Tensors.Reusable in = null;
		try {
			in = new Tensors.Reusable(unet.inputType("sample"),
				new long[] { callBatch, channels, batch.latentHeight(), batch.latentWidth() });
			// the extra channels are the same every step and predict refills only the latents: put them once
			if (extraChannels != null) putExtraChannels(in, extraChannels);
			for (int c = 0; c < batch.calls().size(); c++) {
				outputs.add(new Tensors.Reusable(unet.outputType(outputName), latentShape));
			}
			for (UnetInput.Factory f : inputs) {
				UnetInput input = f.create(batch);
				if (input != null) extraInputs.add(input);
			}
		}
		catch (OrtException | RuntimeException e) {
			if (in != null) in.close();
			closeOutputsAndInputs();
			throw e;
		}
		this.sample = in;
		this.window = UnetInput.Window.whole(batch);
	}

	/** The part of the whole latent the next calls see (tiled diffusion's tile), told to the extra inputs. */
	void window(UnetInput.Window window) {
		this.window = window;
	}

	/**
	 * Replaces a 9-channel UNet's channels after the latents (the same for every image) until the next call of this:
	 * tiled diffusion's tiles move, and each takes its own part of the mask and masked-image latents.
	 */
	void extraChannels(float[] extraChannels) {
		putExtraChannels(sample, extraChannels);
	}

	private void putExtraChannels(Tensors.Reusable in, float[] extraChannels) {
		for (int row = 0; row < callBatch; row++) {
			in.put((row * channels + 4) * plane, extraChannels, 0, (channels - 4) * plane);
		}
	}

	/**
	 * The noise prediction (guided when CFG) for the scaled latents at timestep {@code t}, step {@code step};
	 * {@code last}: the batch's last step, after which the UNet session releases its working memory.
	 *
	 * @throws Cancellation.CancelledException when cancelled during a call
	 */
	@Override
	public float[] predict(int step, double t, float[] latentInput, boolean last, Cancellation cancellation)
		throws OrtException
	{
		for (int k = 0; k < callBatch / images; k++) {
			for (int b = 0; b < images; b++) {
				sample.put(((k * images + b) * channels) * plane, latentInput, b * 4 * plane, 4 * plane);
			}
		}
		try (OnnxTensor timestep = timestep(unet, t, callBatch)) {
			for (int c = 0; c < outputs.size(); c++) {
				Map<String, OnnxTensor> inputs = new HashMap<>();
				inputs.put("sample", sample.tensor());
				inputs.put("timestep", timestep);
				inputs.putAll(text.forCall(c));
				// a read-only view: each input sees those set before it (a ControlNet reads SDXL's time_ids)
				var call = new UnetInput.UnetCall(step, t, latentInput, c, batch.calls().get(c),
					Collections.unmodifiableMap(inputs), cancellation, window);
				for (UnetInput extra : extraInputs) {
					for (Map.Entry<String, OnnxTensor> e : extra.inputsFor(call).entrySet()) {
						if (inputs.put(e.getKey(), e.getValue()) != null) {
							throw new IllegalStateException("Two parts of the pipeline set the UNet input " + e.getKey());
						}
					}
				}
				Map<String, OnnxValue> pinned = Map.of(outputName, outputs.get(c).tensor());
				boolean release = last && c == outputs.size() - 1;
				try (OrtSession.Result ignored = unet.run(inputs, pinned, release, cancellation)) {
					onCall.accept(callBatch);
				}
				outputs.get(c).get(prediction, c * callBatch * 4 * plane);
			}
		}
		// A fresh array for the sampler: multistep samplers keep earlier predictions.
		if (!batch.cfg()) return Arrays.copyOf(prediction, images * 4 * plane);
		float[] guided = new float[images * 4 * plane];
		guide(prediction, (float) batch.guidance(), guided);
		return guided;
	}

	@Override
	public void runsSteps(int first, int total) {
		extraInputs.forEach(input -> input.runsSteps(first, total));
	}

	/**
	 * The timestep as {@code model} (a UNet, a ControlNet) declares it: [] (optimum), [B] (diffusers script; also takes
	 * [1]), or a fixed [1]; {@code rows}: B.
	 */
	static OnnxTensor timestep(OnnxComponent model, double t, int rows) throws OrtException {
		long[] declared = model.inputShape("timestep");
		boolean scalar = declared.length == 0;
		int count = scalar ? 1 : declared[0] > 0 ? (int) declared[0] : rows;
		float[] tv = new float[count];
		Arrays.fill(tv, (float) t);
		return Tensors.create(model.inputType("timestep"), tv, scalar ? new long[0] : new long[] { count });
	}

	/** Classifier-free guidance: {@code u + g·(c − u)} over the [negative | prompt] halves of the prediction. */
	static void guide(float[] prediction, float guidance, float[] out) {
		int half = out.length;
		for (int j = 0; j < half; j++) {
			float u = prediction[j];
			out[j] = u + guidance * (prediction[half + j] - u);
		}
	}

	@Override
	public void close() {
		sample.close();
		closeOutputsAndInputs();
	}

	private void closeOutputsAndInputs() {
		outputs.forEach(Tensors.Reusable::close);
		extraInputs.forEach(UnetInput::close);
	}
}
