package sc.fiji.sd.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.lora.TestFiles.T;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.onnx.OnnxGraph;

/** Reading textual-inversion files in every layout, refusing what is not one, and finding the token table. */
class EmbeddingFilesTest {

	@TempDir
	Path dir;

	Path write(String name, Object... tensors) throws IOException {
		Path f = dir.resolve(name);
		TestFiles.safetensors(f, TestFiles.map(tensors));
		return f;
	}

	@Test
	void a1111EmbParamsGiveOneVectorPerRowAndTheFileNameAsTrigger() throws IOException {
		Embedding e = Embedding.read(write("my-style.safetensors", "emb_params", T.of(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3)));
		assertEquals("my-style", e.name());
		assertEquals(List.of("my-style"), e.triggers());
		assertEquals(2, e.vectors());
		assertEquals(3, e.width(Embedding.FIRST_ENCODER));
		assertArrayEquals(new float[] { 1, 2, 3, 4, 5, 6 }, e.rows(Embedding.FIRST_ENCODER));
		assertNull(e.rows(Embedding.SECOND_ENCODER));
	}

	@Test
	void a1111StringToParamIsReadToo() throws IOException {
		Embedding e = Embedding.read(write("old.safetensors", "string_to_param.*", T.filled(1, 3, 4)));
		assertEquals(3, e.vectors());
		assertEquals("A1111", e.layout());
	}

	@Test
	void aDiffusersFilesTokenIsATriggerBesideTheFileName() throws IOException {
		Embedding e = Embedding.read(write("learned_embeds.safetensors", "<cat-toy>", T.filled(1, 8)));
		assertEquals(List.of("learned_embeds", "<cat-toy>"), e.triggers());
		assertEquals(1, e.vectors());
		assertEquals(8, e.width(Embedding.FIRST_ENCODER));
	}

	@Test
	void anSdxlPairGivesClipLToTheFirstEncoderAndClipGToTheSecond() throws IOException {
		Embedding e = Embedding.read(write("xl.safetensors", "clip_g", T.filled(2, 2, 12), "clip_l", T.filled(1, 2, 8)));
		assertEquals("SDXL", e.layout());
		assertEquals(8, e.width(Embedding.FIRST_ENCODER));
		assertEquals(12, e.width(Embedding.SECOND_ENCODER));
		var bad = assertThrows(StableDiffusionException.class, () -> Embedding.read(write("half.safetensors", "clip_l",
			T.filled(1, 2, 8))));
		assertTrue(bad.getMessage().contains("clip_l but no clip_g"), bad.getMessage());
		var uneven = assertThrows(StableDiffusionException.class, () -> Embedding.read(write("uneven.safetensors",
			"clip_l", T.filled(1, 2, 8), "clip_g", T.filled(1, 3, 12))));
		assertTrue(uneven.getMessage().contains("clip_l has 2 vectors but clip_g 3"), uneven.getMessage());
	}

	@Test
	void whatIsNoEmbeddingIsRefusedSayingWhat() throws IOException {
		var lora = assertThrows(StableDiffusionException.class, () -> Embedding.read(write("style.safetensors",
			"lora_unet_x.lora_down.weight", T.filled(1, 1, 2), "lora_unet_x.lora_up.weight", T.filled(1, 2, 1))));
		assertTrue(lora.getMessage().contains("it is a LoRA") && lora.getMessage().contains("<lora:style:1>"),
			lora.getMessage());
		var many = assertThrows(StableDiffusionException.class, () -> Embedding.read(write("two.safetensors",
			"string_to_param.a", T.filled(1, 1, 2), "string_to_param.b", T.filled(1, 1, 2))));
		assertTrue(many.getMessage().contains("several terms"), many.getMessage());
		var shape = assertThrows(StableDiffusionException.class, () -> Embedding.read(write("cube.safetensors",
			"emb_params", T.filled(1, 1, 2, 2))));
		assertTrue(shape.getMessage().contains("[vectors, width]"), shape.getMessage());
		var nan = assertThrows(StableDiffusionException.class, () -> Embedding.read(write("nan.safetensors",
			"emb_params", T.of(new float[] { 1, Float.NaN }, 1, 2))));
		assertTrue(nan.getMessage().contains("NaN"), nan.getMessage());
	}

	@Test
	void pickleAndTruncatedFilesAreRefused() throws IOException {
		Path pt = dir.resolve("old.pt");
		Files.write(pt, new byte[] { (byte) 0x80, 2, '}', '.' });
		var pickle = assertThrows(StableDiffusionException.class, () -> Embedding.read(pt));
		assertTrue(pickle.getMessage().contains("pickle"), pickle.getMessage());
		Path f = write("cut.safetensors", "emb_params", T.filled(1, 4, 8));
		byte[] all = Files.readAllBytes(f);
		Files.write(f, java.util.Arrays.copyOf(all, all.length - 10));
		var cut = assertThrows(StableDiffusionException.class, () -> Embedding.read(f));
		assertTrue(cut.getMessage().contains("truncated"), cut.getMessage());
	}

	@Test
	void aFolderListsSafetensorsAndPickleFilesAndAMissingFolderIsNamed() throws IOException {
		write("a.safetensors", "emb_params", T.filled(1, 1, 4));
		Files.writeString(dir.resolve("b.pt"), "x");
		Files.writeString(dir.resolve("notes.txt"), "x");
		EmbeddingSpec spec = EmbeddingSpec.ofFolder(dir);
		assertEquals(List.of("a.safetensors", "b.pt"), spec.entries().stream().map(e -> e.file().getFileName()
			.toString()).toList());
		assertEquals(spec, EmbeddingSpec.ofFolder(dir), "a value: the same folder gives the same key");
		var missing = assertThrows(StableDiffusionException.class, () -> EmbeddingSpec.ofFolder(dir.resolve("nope")));
		assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
	}

	@Test
	void theTokenTableIsTheGatherIndexedByInputIdsWhateverItsName() throws IOException {
		// fp32 table read directly (the embedded model's export)
		var te = OnnxGraph.read(Path.of("models", EmbeddedModel.NAME, "text_encoder", "model.onnx"));
		OnnxGraph.Initializer t = EmbeddingSet.tokenTable(te);
		assertNotNull(t);
		assertArrayEquals(new long[] { 49408, 48 }, t.dims());
		// fp16 table behind a Cast (the fixtures): the stored initializer is the one to replace
		var fixture = OnnxGraph.read(LoraReferenceTest.FIXTURE.resolve("base/text_encoder/model.onnx"));
		assertEquals(OnnxGraph.FLOAT16, EmbeddingSet.tokenTable(fixture).dataType());
		// a renamed table, and a position table that is also gathered but not by input_ids
		Path g = dir.resolve("te.onnx");
		TestFiles.onnx(g, new String[][] { { "c", "Cast", "ids64", "input_ids" }, { "r", "Reshape", "flat", "ids64", "shape" },
			{ "p", "Gather", "pos", "onnx::Gather_7", "position_ids" }, { "g", "Gather", "emb", "onnx::Gather_3", "flat" } },
			TestFiles.map("onnx::Gather_7", T.filled(1, 77, 4), "onnx::Gather_3", T.filled(1, 10, 4)));
		assertEquals("onnx::Gather_3", EmbeddingSet.tokenTable(OnnxGraph.read(g)).name());
		Path none = dir.resolve("none.onnx");
		TestFiles.onnx(none, new String[][] { { "p", "Gather", "pos", "w", "position_ids" } }, TestFiles.map("w",
			T.filled(1, 77, 4)));
		assertNull(EmbeddingSet.tokenTable(OnnxGraph.read(none)));
	}
}
