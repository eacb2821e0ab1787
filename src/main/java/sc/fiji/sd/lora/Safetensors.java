package sc.fiji.sd.lora;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.onnx.Fp16;

/**
 * A {@code .safetensors} file: an 8-byte little-endian header length, a JSON header that names each tensor's dtype,
 * shape and byte range ({@code data_offsets}, relative to the end of the header), then the raw little-endian data.
 * Only the header is read when the file is opened; a tensor's bytes are read when asked for. Every range is checked
 * against the file's length, so a truncated download is named instead of read as garbage.
 * <p>
 * Pickle files ({@code .pt}, {@code .ckpt}, {@code .bin}) can run code when loaded: they are refused by name.
 */
public final class Safetensors {

	/** Headers of real files are kilobytes to a few MB; anything larger is not a safetensors header. */
	private static final long MAX_HEADER = 100L << 20;

	/** The dtypes {@link #floats} reads. */
	private static final List<String> FLOAT_TYPES = List.of("F32", "F16", "BF16", "F64");

	/** One tensor's entry in the header. */
	public record Entry(String name, String dtype, long[] shape, long begin, long end) {
		public long elements() {
			long n = 1;
			for (long d : shape) n *= d;
			return n;
		}
	}

	private final Path file;
	private final long dataStart;
	private final Map<String, Entry> entries;
	private final Map<String, String> metadata;

	private Safetensors(Path file, long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {
		this.file = file;
		this.dataStart = dataStart;
		this.entries = entries;
		this.metadata = metadata;
	}

	/**
	 * Reads the header of {@code file}.
	 *
	 * @throws StableDiffusionException for a missing file, a pickle file, or a header that is truncated or not a
	 *         safetensors header
	 */
	public static Safetensors open(Path file) {
		refusePickle(file);
		if (!Files.isRegularFile(file)) {
			throw new StableDiffusionException("The file " + file + " does not exist (or is not a file).");
		}
		try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
			long size = f.length();
			if (size < 8) throw bad(file, "the file is only " + size + " bytes long (truncated?)");
			byte[] lengthBytes = new byte[8];
			f.readFully(lengthBytes);
			long headerLength = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
			if (headerLength <= 1 || headerLength > MAX_HEADER) {
				throw bad(file, "its first 8 bytes give a header length of " + headerLength
					+ ", which no safetensors file has");
			}
			if (8 + headerLength > size) {
				throw bad(file, "the header should be " + headerLength + " bytes but the file ends after "
					+ (size - 8) + " (truncated download?)");
			}
			byte[] header = new byte[(int) headerLength];
			f.readFully(header);
			JsonObject json;
			try {
				json = JsonParser.parseString(new String(header, StandardCharsets.UTF_8)).getAsJsonObject();
			}
			catch (RuntimeException e) {
				throw bad(file, "its header is not a JSON object");
			}
			long dataStart = 8 + headerLength;
			long dataSize = size - dataStart;
			Map<String, Entry> entries = new LinkedHashMap<>();
			Map<String, String> metadata = new LinkedHashMap<>();
			for (Map.Entry<String, JsonElement> e : json.entrySet()) {
				if (e.getKey().equals("__metadata__")) {
					if (e.getValue().isJsonObject()) {
						for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet())
							metadata.put(m.getKey(), m.getValue().isJsonPrimitive() ? m.getValue().getAsString()
								: m.getValue().toString());
					}
					continue;
				}
				entries.put(e.getKey(), entry(file, e.getKey(), e.getValue(), dataSize));
			}
			return new Safetensors(file, dataStart, Collections.unmodifiableMap(entries),
				Collections.unmodifiableMap(metadata));
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot read " + file + ": " + e.getMessage(), e);
		}
	}

	/** Refuses files whose name says pickle; they would need Python's unpickler, which can run any code. */
	static void refusePickle(Path file) {
		String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
		for (String suffix : new String[] { ".pt", ".pth", ".ckpt", ".bin", ".pkl" }) {
			if (name.endsWith(suffix)) {
				throw new StableDiffusionException(file.getFileName() + " is a PyTorch pickle file (" + suffix
					+ "), which can run arbitrary code when loaded and is not read here. Use the .safetensors "
					+ "version of the file, or convert it once in Python (safetensors.torch.save_file).");
			}
		}
	}

	private static Entry entry(Path file, String name, JsonElement value, long dataSize) {
		try {
			JsonObject o = value.getAsJsonObject();
			String dtype = o.get("dtype").getAsString();
			var shapeJson = o.getAsJsonArray("shape");
			long[] shape = new long[shapeJson.size()];
			for (int i = 0; i < shape.length; i++) shape[i] = shapeJson.get(i).getAsLong();
			var offsets = o.getAsJsonArray("data_offsets");
			long begin = offsets.get(0).getAsLong();
			long end = offsets.get(1).getAsLong();
			Entry entry = new Entry(name, dtype, shape, begin, end);
			if (begin < 0 || end < begin) throw bad(file, "tensor " + name + " has data offsets [" + begin + ", " + end + "]");
			if (end > dataSize) {
				throw bad(file, "tensor " + name + " ends at byte " + end + " of the data but the file holds only "
					+ dataSize + " bytes of data (truncated download?)");
			}
			int width = bytesPerElement(dtype);
			if (width > 0 && (end - begin) != entry.elements() * width) {
				throw bad(file, "tensor " + name + " of shape " + java.util.Arrays.toString(shape) + " and dtype "
					+ dtype + " has " + (end - begin) + " bytes");
			}
			return entry;
		}
		catch (StableDiffusionException e) {
			throw e;
		}
		catch (RuntimeException e) {
			throw bad(file, "the header entry of " + name + " lacks dtype, shape or data_offsets");
		}
	}

	private static int bytesPerElement(String dtype) {
		return switch (dtype) {
			case "F64", "I64", "U64" -> 8;
			case "F32", "I32", "U32" -> 4;
			case "F16", "BF16", "I16", "U16" -> 2;
			case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
			default -> -1;
		};
	}

	private static StableDiffusionException bad(Path file, String why) {
		return new StableDiffusionException(file.getFileName() + " is not a readable .safetensors file: " + why + ".");
	}

	public Path file() { return file; }

	/** Tensor entries by name, in header order ({@code __metadata__} excluded). */
	public Map<String, Entry> entries() { return entries; }

	/** The {@code __metadata__} strings (empty when absent). */
	public Map<String, String> metadata() { return metadata; }

	/**
	 * Checks that the tensor {@code name} is of a type {@link #floats} reads, without reading it.
	 *
	 * @throws StableDiffusionException naming the tensor and its type otherwise
	 */
	public void checkFloats(String name) {
		Entry e = entry(name);
		if (!FLOAT_TYPES.contains(e.dtype())) throw notFloats(e);
	}

	private StableDiffusionException notFloats(Entry e) {
		return new StableDiffusionException("Tensor " + e.name() + " of " + file.getFileName() + " has dtype "
			+ e.dtype() + "; only F32, F16, BF16 and F64 weights can be applied.");
	}

	/** The tensor's values as floats (F32, F16, BF16, F64), read from the file now. */
	public float[] floats(String name) {
		Entry e = entry(name);
		if (e.elements() > Integer.MAX_VALUE) throw new StableDiffusionException("Tensor " + name + " is too large.");
		float[] out = new float[(int) e.elements()];
		floats(name, out);
		return out;
	}

	/**
	 * Reads the tensor's values as floats into the start of {@code into} (at least as long), from the file now, in
	 * chunks: nothing of the tensor's size is allocated.
	 */
	public void floats(String name, float[] into) {
		Entry e = entry(name);
		if (!FLOAT_TYPES.contains(e.dtype())) throw notFloats(e);
		int width = bytesPerElement(e.dtype());
		if (e.elements() > into.length) throw new IllegalArgumentException(name + " does not fit in " + into.length);
		int n = (int) e.elements();
		byte[] chunk = new byte[Math.min(1 << 16, n * width)];
		ByteBuffer b = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
		try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
			f.seek(dataStart + e.begin());
			for (int done = 0; done < n;) {
				int count = Math.min(n - done, chunk.length / width);
				f.readFully(chunk, 0, count * width);
				b.clear();
				switch (e.dtype()) {
					case "F32" -> { for (int i = 0; i < count; i++) into[done + i] = b.getFloat(); }
					case "F16" -> { for (int i = 0; i < count; i++) into[done + i] = Fp16.toFloat(b.getShort()); }
					case "BF16" -> { for (int i = 0; i < count; i++) into[done + i] = Float.intBitsToFloat((b.getShort() & 0xffff) << 16); }
					default -> { for (int i = 0; i < count; i++) into[done + i] = (float) b.getDouble(); }
				}
				done += count;
			}
		}
		catch (IOException ex) {
			throw new StableDiffusionException("Cannot read tensor " + name + " of " + file + ": " + ex.getMessage(), ex);
		}
	}

	private Entry entry(String name) {
		Entry e = entries.get(name);
		if (e == null) throw new StableDiffusionException(file.getFileName() + " has no tensor " + name + ".");
		return e;
	}
}
