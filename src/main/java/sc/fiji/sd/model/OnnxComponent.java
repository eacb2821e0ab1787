package sc.fiji.sd.model;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.onnx.Cancellation;
import sc.fiji.sd.onnx.ExecutionProviders;

/**
 * One ONNX model of the pipeline (text encoder, UNet, VAE encoder or decoder): its session and what the session
 * declares about its inputs and outputs, read once.
 */
public final class OnnxComponent implements AutoCloseable {

	private final String name;
	private final Path file;
	private final OrtSession session;
	private final Map<String, TensorInfo> inputs = new LinkedHashMap<>();
	private final Map<String, TensorInfo> outputs = new LinkedHashMap<>();
	/** Run options that empty the session's CPU arena after a call; null when the session has no arena. */
	private final OrtSession.RunOptions releaseArena;
	private volatile CallListener listener;

	/**
	 * Sees every {@link #run} of a component, after it returned: the benchmark times the stages with it and records
	 * the calls it replays as its ONNX floor. Called on the generating thread; keep it cheap.
	 */
	public interface CallListener {
		/**
		 * @param inputs the inputs of the call, still open
		 * @param result the outputs, still open (pinned outputs included)
		 * @param nanos wall time of the session call alone
		 * @param releasedMemory whether the call emptied the session's arena when it ended
		 */
		void called(OnnxComponent component, Map<String, ? extends OnnxTensorLike> inputs, OrtSession.Result result,
			long nanos, boolean releasedMemory);
	}

	/**
	 * @param arena whether the session was created with ONNX Runtime's CPU arena (then {@link #run(Map, Map, boolean)}
	 *        can hand its memory back)
	 */
	OnnxComponent(String name, Path file, OrtSession session, boolean arena) {
		this.name = name;
		this.file = file;
		this.session = session;
		try {
			releaseArena = arena ? ExecutionProviders.releaseArenaOptions() : null;
			for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet())
				inputs.put(e.getKey(), tensorInfo(e.getValue()));
			for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet())
				outputs.put(e.getKey(), tensorInfo(e.getValue()));
		}
		catch (OrtException e) {
			throw new StableDiffusionException("Cannot read the inputs of " + file + ": " + e.getMessage(), e);
		}
	}

	private TensorInfo tensorInfo(NodeInfo info) {
		if (!(info.getInfo() instanceof TensorInfo t)) {
			throw new StableDiffusionException(file + " has a non-tensor input or output '" + info.getName()
				+ "'; this is not a Stable Diffusion " + name + ".");
		}
		return t;
	}

	public String name() { return name; }
	public Path file() { return file; }
	public OrtSession session() { return session; }

	/** Sets (or with null removes) the listener told about every {@link #run}. */
	public void setCallListener(CallListener listener) { this.listener = listener; }

	/** Runs the session for the requested outputs. Close the result. */
	public OrtSession.Result run(Map<String, ? extends OnnxTensorLike> inputs, Set<String> requestedOutputs)
		throws OrtException
	{
		CallListener l = listener;
		if (l == null) return session.run(inputs, requestedOutputs);
		long start = System.nanoTime();
		OrtSession.Result r = session.run(inputs, requestedOutputs);
		l.called(this, inputs, r, System.nanoTime() - start, false);
		return r;
	}

	/**
	 * Runs the session writing into pre-allocated ({@code pinned}) outputs, which the result does not own.
	 *
	 * @param releaseMemory hand the session's working memory back to the system when the call ends (a batch's last
	 *        UNet step); otherwise a session with an arena keeps it for its next call
	 */
	public OrtSession.Result run(Map<String, ? extends OnnxTensorLike> inputs, Map<String, ? extends OnnxValue> pinned,
		boolean releaseMemory) throws OrtException
	{
		OrtSession.RunOptions options = releaseMemory ? releaseArena : null;
		CallListener l = listener;
		long start = l == null ? 0 : System.nanoTime();
		OrtSession.Result r = session.run(inputs, Set.of(), pinned, options);
		if (l != null) l.called(this, inputs, r, System.nanoTime() - start, options != null);
		return r;
	}

	/**
	 * As {@link #run(Map, Map, boolean)}, stoppable while it runs: the call gets run options of its own, registered
	 * with {@code cancellation} for its duration, and ends with {@link Cancellation.CancelledException} when cancelled
	 * (the pinned outputs then hold no complete result).
	 */
	public OrtSession.Result run(Map<String, ? extends OnnxTensorLike> inputs, Map<String, ? extends OnnxValue> pinned,
		boolean releaseMemory, Cancellation cancellation) throws OrtException
	{
		return run(inputs, Set.of(), pinned, releaseMemory, cancellation);
	}

	/**
	 * As {@link #run(Map, Set)}, stoppable while it runs ({@link #run(Map, Map, boolean, Cancellation)}): for outputs
	 * whose shape is known only after the call (a ControlNet's residuals).
	 */
	public OrtSession.Result run(Map<String, ? extends OnnxTensorLike> inputs, Set<String> requestedOutputs,
		Cancellation cancellation) throws OrtException
	{
		return run(inputs, requestedOutputs, Map.of(), false, cancellation);
	}

	private OrtSession.Result run(Map<String, ? extends OnnxTensorLike> inputs, Set<String> requestedOutputs,
		Map<String, ? extends OnnxValue> pinned, boolean releaseMemory, Cancellation cancellation) throws OrtException
	{
		boolean release = releaseMemory && releaseArena != null;
		try (OrtSession.RunOptions options = release ? ExecutionProviders.releaseArenaOptions()
			: new OrtSession.RunOptions())
		{
			cancellation.register(options);
			try {
				CallListener l = listener;
				long start = l == null ? 0 : System.nanoTime();
				OrtSession.Result r = session.run(inputs, requestedOutputs, pinned, options);
				if (l != null) l.called(this, inputs, r, System.nanoTime() - start, release);
				return r;
			}
			catch (OrtException e) {
				if (cancellation.isCancelled()) throw new Cancellation.CancelledException(e);
				throw e;
			}
			finally {
				cancellation.unregister(options);
			}
		}
	}

	/** The run options {@link #run(Map, Map, boolean)} uses to release memory, or null (no arena): for replays. */
	public OrtSession.RunOptions releaseMemoryOptions() { return releaseArena; }

	public Set<String> inputNames() { return inputs.keySet(); }
	public Set<String> outputNames() { return outputs.keySet(); }
	public boolean hasInput(String input) { return inputs.containsKey(input); }
	public boolean hasOutput(String output) { return outputs.containsKey(output); }

	/** Element type of an input (FLOAT, FLOAT16, INT32, INT64…). */
	public OnnxJavaType inputType(String input) { return require(inputs, input, "input").type; }

	/** Declared shape of an input, −1 for dynamic axes. */
	public long[] inputShape(String input) { return require(inputs, input, "input").getShape(); }

	public OnnxJavaType outputType(String output) { return require(outputs, output, "output").type; }

	public long[] outputShape(String output) { return require(outputs, output, "output").getShape(); }

	/** The single input whose name is one of {@code candidates}, in order of preference. */
	public String inputNamed(String... candidates) {
		for (String c : candidates) if (inputs.containsKey(c)) return c;
		throw new StableDiffusionException(file + " has no input named " + String.join(" or ", candidates)
			+ " (it has " + inputs.keySet() + "); this is not a Stable Diffusion " + name + " export.");
	}

	/** The output named one of {@code candidates}, or else the first output. */
	public String outputNamed(String... candidates) {
		for (String c : candidates) if (outputs.containsKey(c)) return c;
		return outputs.keySet().iterator().next();
	}

	private TensorInfo require(Map<String, TensorInfo> map, String key, String what) {
		TensorInfo t = map.get(key);
		if (t == null) throw new StableDiffusionException(file + " has no " + what + " '" + key + "'.");
		return t;
	}

	/** "sample float32 [-1, 4, -1, -1]" style summary of the inputs, for --verbose and info. */
	public String signature() {
		StringBuilder sb = new StringBuilder();
		inputs.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ')
			.append(typeName(v.type)).append(Arrays.toString(v.getShape())));
		sb.append(" -> ");
		int n = 0;
		for (var e : outputs.entrySet()) sb.append(n++ == 0 ? "" : ", ").append(e.getKey()).append(' ')
			.append(typeName(e.getValue().type)).append(Arrays.toString(e.getValue().getShape()));
		return sb.toString();
	}

	public static String typeName(OnnxJavaType t) {
		switch (t) {
			case FLOAT: return "float32";
			case FLOAT16: return "float16";
			case DOUBLE: return "float64";
			case INT32: return "int32";
			case INT64: return "int64";
			default: return t.name().toLowerCase();
		}
	}

	@Override
	public void close() {
		if (releaseArena != null) releaseArena.close();
		try {
			session.close();
		}
		catch (OrtException e) {
			// closing a session only frees memory; nothing the user can do
		}
	}
}
